// The REST API (docs/api.md): JSON in and out, errors as ApiError, the host's access token
// refreshed once when it has expired. Tokens live in localStorage so a reload keeps the
// session: the host's access and refresh tokens, and one participant token per room.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For `invalid_field`: the request field the server refused. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface HostTokens {
  accessToken: string;
  refreshToken: string;
}

const HOST_KEY = 'zencast.host';

/** localStorage, or none where there is no such thing (unit tests under Node). */
const storage = (): Storage | undefined => globalThis.localStorage;
const participantKey = (roomId: string) => `zencast.participant.${roomId}`;

export const tokens = {
  host(): HostTokens | null {
    const text = storage()?.getItem(HOST_KEY);
    return text ? (JSON.parse(text) as HostTokens) : null;
  },
  setHost(t: HostTokens | null) {
    if (t) storage()?.setItem(HOST_KEY, JSON.stringify({ accessToken: t.accessToken, refreshToken: t.refreshToken }));
    else storage()?.removeItem(HOST_KEY);
  },
  participant(roomId: string): string | null {
    return storage()?.getItem(participantKey(roomId)) ?? null;
  },
  setParticipant(roomId: string, token: string | null) {
    if (token) storage()?.setItem(participantKey(roomId), token);
    else storage()?.removeItem(participantKey(roomId));
  },
};

/** Which token a request carries: the host's access token, a room's participant token, none. */
export type Auth = { kind: 'host' } | { kind: 'participant'; roomId: string } | { kind: 'none' };

export interface RequestOptions {
  auth?: Auth; // default: the host's
  signal?: AbortSignal;
}

function bearer(auth: Auth): string | null {
  if (auth.kind === 'host') return tokens.host()?.accessToken ?? null;
  if (auth.kind === 'participant') return tokens.participant(auth.roomId);
  return null;
}

async function send(method: string, path: string, body: unknown, auth: Auth, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = bearer(auth);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const { error } = (await res.json()) as { error: { code: string; message: string; field?: string } };
    return new ApiError(res.status, error.code, error.message, error.field);
  } catch {
    return new ApiError(res.status, 'http_error', `${res.status} ${res.statusText}`);
  }
}

let refreshing: Promise<boolean> | null = null;

/** New host tokens from the refresh token; false when the session is over (log in again). */
export function refreshHostTokens(): Promise<boolean> {
  refreshing ??= (async () => {
    const current = tokens.host();
    if (!current) return false;
    const res = await send('POST', '/api/auth/refresh', { refreshToken: current.refreshToken }, { kind: 'none' });
    if (!res.ok) {
      if (res.status === 401) tokens.setHost(null);
      return false;
    }
    tokens.setHost((await res.json()) as HostTokens);
    return true;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** One API call: the parsed JSON body (undefined for 204), or an ApiError. */
export async function apiRequest<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const auth = opts.auth ?? { kind: 'host' };
  let res = await send(method, path, body, auth, opts.signal);
  if (res.status === 401 && auth.kind === 'host') {
    const error = await errorOf(res);
    if (error.code !== 'token_expired' || !(await refreshHostTokens())) throw error;
    res = await send(method, path, body, auth, opts.signal);
  }
  if (!res.ok) throw await errorOf(res);
  return res.status === 204 ? (undefined as T) : ((await res.json()) as T);
}
