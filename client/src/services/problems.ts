// Errors as plain data (so they can sit in the Redux store) and the words people see for them.
import { ApiError } from './api';

export interface Problem {
  /** HTTP status; 0 when the server could not be reached. */
  status: number;
  code: string;
  message: string;
  field?: string;
}

export function toProblem(err: unknown): Problem {
  if (err instanceof ApiError) return { status: err.status, code: err.code, message: err.message, field: err.field };
  // fetch rejects with a TypeError when the network or the server is down.
  if (err instanceof TypeError) return { status: 0, code: 'network', message: err.message };
  return { status: 0, code: 'unknown', message: err instanceof Error ? err.message : String(err) };
}

/** The signed-in session is over: the tokens were refused and could not be refreshed. */
export function isSessionEnded(problem: Problem): boolean {
  return problem.status === 401 && ['unauthorized', 'token_expired', 'invalid_refresh_token'].includes(problem.code);
}

const MESSAGES: Record<string, string> = {
  network: "Can't reach Zencast right now. Check your connection and try again.",
  invalid_credentials: "That email and password don't match an account.",
  email_taken: 'An account with this email already exists. Sign in instead.',
  rate_limited: 'Too many sign-in attempts. Please wait a few minutes and try again.',
  unauthorized: 'Your session has ended. Please sign in again.',
  token_expired: 'Your session has ended. Please sign in again.',
  invalid_refresh_token: 'Your session has ended. Please sign in again.',
  forbidden: "You don't have access to this.",
  not_found: "We couldn't find that session. It may have been deleted.",
  invalid_invite: 'This invite link is no longer valid. Ask the host to send you a new one.',
  render_in_progress: 'A render is already under way. Wait for it to finish, then try again.',
  not_ready: 'There is nothing to render yet: record a take and wait until everyone has finished uploading.',
  sources_expired:
    "This take's original recordings have been deleted after the retention period, so it can't be rendered again. The last render's files are still available.",
  layout_needs_two_participants: 'Side by side needs a take with exactly two participants. Choose grid or speaker instead.',
  unavailable: 'Zencast is briefly unavailable. Try again in a moment.',
  internal_error: 'Something went wrong on our side. Please try again.',
};

/** A sentence for people. `overrides` words a code differently where the context says more. */
export function friendlyMessage(problem: Problem, overrides: Record<string, string> = {}): string {
  const text = overrides[problem.code] ?? MESSAGES[problem.code];
  if (text) return text;
  if (problem.code === 'invalid_field') return fieldMessage(problem.message);
  return problem.message || 'Something went wrong. Please try again.';
}

/** "password: must be 8 to 256 bytes" -> "Must be 8 to 256 bytes". */
export function fieldMessage(message: string): string {
  const text = message.replace(/^[A-Za-z]+:\s*/, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
