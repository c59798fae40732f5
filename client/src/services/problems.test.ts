import { describe, expect, it } from 'vitest';

import { ApiError } from './api';
import { friendlyMessage, isSessionEnded, toProblem } from './problems';

describe('problems', () => {
  it('keeps what the API said, field included', () => {
    const problem = toProblem(new ApiError(400, 'invalid_field', 'password: must be 8 to 256 bytes, without NUL', 'password'));
    expect(problem).toEqual({ status: 400, code: 'invalid_field', message: 'password: must be 8 to 256 bytes, without NUL', field: 'password' });
    expect(friendlyMessage(problem)).toBe('Must be 8 to 256 bytes, without NUL');
  });

  it('treats a failed fetch as the network being down', () => {
    const problem = toProblem(new TypeError('Failed to fetch'));
    expect(problem.code).toBe('network');
    expect(friendlyMessage(problem)).toMatch(/Can't reach Zencast/);
  });

  it('words render refusals for people', () => {
    expect(friendlyMessage(toProblem(new ApiError(409, 'render_in_progress', 'x')))).toMatch(/already under way/);
    expect(friendlyMessage(toProblem(new ApiError(422, 'layout_needs_two_participants', 'x')))).toMatch(/exactly two/);
  });

  it('tells a finished session from a wrong password', () => {
    expect(isSessionEnded(toProblem(new ApiError(401, 'token_expired', 'x')))).toBe(true);
    expect(isSessionEnded(toProblem(new ApiError(401, 'invalid_credentials', 'x')))).toBe(false);
  });
});
