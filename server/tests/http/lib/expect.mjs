// Assertions shared by the test files.
import assert from 'node:assert/strict';

import { startServer } from './server.mjs';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function describe(res) {
  return `${res.status} ${res.text.slice(0, 500)}`;
}

/** A JSON API response with the given status, Content-Type application/json and Cache-Control no-store. */
export function assertJson(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${describe(res)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/i, 'Content-Type of an API response');
  assert.match(res.headers.get('cache-control') ?? '', /no-store/i, 'Cache-Control of an API response');
  assert.notEqual(res.body, null, `body is not JSON: ${res.text.slice(0, 200)}`);
}

/** An error response {"error":{"code","message"[,"field"]}} with this status and code. */
export function assertError(res, status, code, field) {
  assertJson(res, status);
  assert.equal(typeof res.body.error, 'object', `no "error" object in ${res.text}`);
  assert.equal(res.body.error.code, code, `expected error code ${code}, got ${describe(res)}`);
  assert.equal(typeof res.body.error.message, 'string', 'error.message is a string');
  assert.ok(res.body.error.message.length > 0, 'error.message is not empty');
  if (field !== undefined) {
    assert.equal(res.body.error.field, field, `expected field ${field}, got ${describe(res)}`);
    assert.ok(
      res.body.error.message.startsWith(field),
      `invalid_field message should start with the field name "${field}": ${res.body.error.message}`,
    );
  }
}

/** 400 invalid_field naming `field`. */
export function assertInvalidField(res, field) {
  assertError(res, 400, 'invalid_field', field);
}

/** An integer number of milliseconds since the epoch within a day of now. */
export function assertEpochMs(value, what = 'time') {
  assert.ok(Number.isInteger(value), `${what} should be an integer (epoch ms), got ${JSON.stringify(value)}`);
  assert.ok(Math.abs(value - Date.now()) < 86_400_000, `${what} should be epoch milliseconds near now, got ${value}`);
}

/** The public user object {id,email,name,createdAt} and nothing secret. */
export function assertUser(user) {
  assert.equal(typeof user, 'object');
  assert.deepEqual(Object.keys(user).sort(), ['createdAt', 'email', 'id', 'name'], `user fields: ${JSON.stringify(user)}`);
  assert.equal(typeof user.id, 'string');
  assert.ok(user.id.length > 0);
  assert.equal(typeof user.email, 'string');
  assert.equal(typeof user.name, 'string');
  assertEpochMs(user.createdAt, 'user.createdAt');
}

/** Stops a server started in before() and checks it shut down cleanly. */
export async function stopAndCheck(server) {
  if (!server) return null;
  const result = await server.stop();
  assert.equal(result.code, 0, `server should exit 0 on SIGTERM, got code ${result.code} signal ${result.signal}\n--- log ---\n${result.log}`);
  assert.match(result.log, /shutdown complete/, `log should say "shutdown complete"\n--- log ---\n${result.log}`);
  return result;
}

/**
 * Starts a server for one test, runs fn(server), then stops it. If fn fails, its error is
 * rethrown with the server's log attached (a failed stop does not hide it); otherwise the
 * stop is checked like stopAndCheck.
 */
export async function withServer(options, fn) {
  const server = await startServer(options);
  let value;
  try {
    value = await fn(server);
  } catch (err) {
    const { code, signal, log } = await server.stop();
    err.message += `\n--- server log (exit code ${code}, signal ${signal}) ---\n${log}`;
    throw err;
  }
  await stopAndCheck(server);
  return value;
}

/** Resolves once the event loop has seen the millisecond clock pass `ms`. */
export async function clockPast(ms) {
  while (Date.now() <= ms) await new Promise((resolve) => setImmediate(resolve));
}
