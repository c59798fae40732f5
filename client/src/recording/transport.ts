// The HTTP calls of an upload (docs/api.md, "Uploads"), behind an interface so that the upload
// queue can be tested without a server. Errors: ApiError for an HTTP error answer; anything
// else (TypeError, AbortError, TimeoutError) is a network failure.
import { ApiError, apiRequest, tokens, type Auth } from '../services/api';
import type { Role } from './types';

export interface PresignRequest {
  roomId: string;
  chunkIndex: number;
  size: number;
  sha256: string;
  contentType: string;
  mediaStartMs: number;
}

export interface UploadTarget {
  url: string;
  method: string;
  headers: Record<string, string>;
}

export type PresignResponse =
  | { stored: true; takeId: string; chunkIndex: number }
  | ({ stored: false; takeId: string; chunkIndex: number; expiresAt: number; key: string } & UploadTarget);

export interface ConfirmRequest {
  roomId: string;
  chunkIndex: number;
  mediaStartMs: number;
}

export type TakeStatus = 'recording' | 'stopped' | 'complete';

export interface UploadStatus {
  roomId: string;
  takeId: string;
  takeStatus: TakeStatus;
  /** Stored (confirmed) chunk indexes of the caller in the latest take. */
  chunks: number[];
  /** Presigned, not confirmed. */
  pending: number[];
}

export interface CompleteResponse {
  takeId: string;
  complete: boolean;
  takeComplete: boolean;
  missing: number[];
  renderJobId?: string;
}

export interface UploadTransport {
  presign(auth: Auth, request: PresignRequest): Promise<PresignResponse>;
  put(target: UploadTarget, blob: Blob): Promise<void>;
  confirm(auth: Auth, request: ConfirmRequest): Promise<void>;
  /** 409 not_recording when the room has no take. */
  status(auth: Auth, roomId: string): Promise<UploadStatus>;
  complete(auth: Auth, request: { roomId: string; chunkCount: number }): Promise<CompleteResponse>;
  /** The participant id these credentials upload as, when it can be told without asking the server. */
  participantIdOf?(auth: Auth): string | null;
}

/** Which token uploads a chunk: the host's access token, or the guest's token for that room. */
export function authFor(role: Role, roomId: string): Auth {
  return role === 'host' ? { kind: 'host' } : { kind: 'participant', roomId };
}

const API_TIMEOUT_MS = 30_000;
/** A PUT may take long on a slow uplink, but not forever: at least 50 kB/s, at least 2 minutes. */
const putTimeoutMs = (size: number) => Math.max(120_000, (size / 50_000) * 1000);

function timeout(ms: number): AbortSignal | undefined {
  return typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(ms) : undefined;
}

async function storageError(res: Response): Promise<ApiError> {
  try {
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    return new ApiError(res.status, error.code, error.message);
  } catch {
    // S3 answers XML: the status alone decides
    return new ApiError(res.status, 'http_error', `${res.status} ${res.statusText}`);
  }
}

/** The payload of a JWT, unverified: only to tell which participant a stored token is. */
function jwtSubject(token: string): string | null {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const { sub } = JSON.parse(atob(payload)) as { sub?: unknown };
    return typeof sub === 'string' ? sub : null;
  } catch {
    return null;
  }
}

export const httpTransport: UploadTransport = {
  presign: (auth, request) =>
    apiRequest<PresignResponse>('POST', '/api/uploads/presign', request, { auth, signal: timeout(API_TIMEOUT_MS) }),

  async put(target, blob) {
    const res = await fetch(target.url, {
      method: target.method,
      headers: target.headers,
      body: blob,
      signal: timeout(putTimeoutMs(blob.size)),
    });
    if (!res.ok) throw await storageError(res);
  },

  async confirm(auth, request) {
    await apiRequest('POST', '/api/uploads/confirm', request, { auth, signal: timeout(API_TIMEOUT_MS) });
  },

  status: (auth, roomId) =>
    apiRequest<UploadStatus>('GET', `/api/uploads/status?roomId=${encodeURIComponent(roomId)}`, undefined, {
      auth,
      signal: timeout(API_TIMEOUT_MS),
    }),

  complete: (auth, request) =>
    apiRequest<CompleteResponse>('POST', '/api/uploads/complete', request, { auth, signal: timeout(API_TIMEOUT_MS) }),

  participantIdOf(auth) {
    if (auth.kind !== 'participant') return null; // the host's token names the user, not the participant
    const token = tokens.participant(auth.roomId);
    return token ? jwtSubject(token) : null;
  },
};
