// What to do after an upload call failed (the errors table of docs/api.md, "Upload errors"),
// and how long to wait before trying again.
import { ApiError } from '../services/api';
import type { Failure } from './types';

export type Verdict =
  /** Try the whole chunk again (presign, PUT, confirm) after a backoff. */
  | { kind: 'retry' }
  /** Ask the server which take is current and what it holds before anything else. */
  | { kind: 'resync' }
  /** It can never succeed: keep the chunk, report why. */
  | { kind: 'fail'; failure: Failure };

/** Codes that a new presign, PUT or confirm may get past. */
const RETRYABLE_CODES = new Set([
  'url_expired', // presign again
  'invalid_signature', // a mangled URL: presign again
  'not_uploaded', // confirm before the PUT landed: PUT again
  'not_found', // confirm without a presign on record: presign again
  'still_recording', // complete just before the stop reached the database
  'unavailable',
  'internal_error',
]);

const FAILURE_MESSAGES: Record<string, string> = {
  conflict: 'The server already holds a different chunk under this number.',
  checksum_mismatch: 'The chunk in browser storage does not match what was announced.',
  forbidden: 'You are no longer a participant of this session.',
  unauthorized: 'Not signed in: sign in (or rejoin the session) to upload this recording.',
  token_expired: 'Your session has expired: sign in or rejoin the session to upload the rest.',
  take_closed: 'The take was finished without this chunk.',
  no_take: 'The server has no take for this session any more.',
  take_superseded: 'A newer take has started: the server no longer accepts chunks of this one.',
  participant_changed: 'You rejoined the session as someone else: these chunks belong to your earlier participation.',
  missing_locally: 'The chunk is no longer in browser storage.',
};

export function failure(code: string, message = FAILURE_MESSAGES[code] ?? code): Failure {
  return { code, message };
}

export function judge(error: unknown): Verdict {
  if (!(error instanceof ApiError)) return { kind: 'retry' }; // network, timeout
  const { status, code } = error;
  if (status >= 500 || status === 408 || status === 429 || RETRYABLE_CODES.has(code)) return { kind: 'retry' };
  if (code === 'not_recording') return { kind: 'resync' };
  return { kind: 'fail', failure: failure(code, FAILURE_MESSAGES[code] ?? error.message) };
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 60_000 };

/**
 * attempt 1, 2, 3...: base x 2^(attempt-1), capped, with "equal jitter" (between half and all of
 * it) so that many browsers coming back online do not retry in step.
 */
export function backoffDelay(attempt: number, { baseMs, maxMs }: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}
