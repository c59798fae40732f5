// Starts and stops `zencast serve` for the HTTP integration tests.
//
//   const server = await startServer({ env: { HTTP_IDLE_TIMEOUT: '2s' } });
//   const res = await server.request('GET', '/healthz');
//   const { code, log } = await server.stop();
//
// ZENCAST_BIN names the binary (default: <repo>/build/zencast). With TEST_DATABASE_URL set to
// the admin URL of a throwaway PostgreSQL (scripts/pg-test-cluster.sh), every server gets a
// fresh database of its own, dropped again by stop(); without it the server uses SQLite.
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { request } from './client.mjs';

const execFileAsync = promisify(execFile);

/** The JWT secret every test server runs with, so tests can forge tokens (exactly 48 bytes). */
export const JWT_SECRET = 'zencast-http-tests-secret-0123456789abcdefghijkl';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '../../../..');
export const ZENCAST_BIN = process.env.ZENCAST_BIN || path.join(REPO_ROOT, 'build/zencast');

const READY_POLL_MS = 50;
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 20_000;

// Every variable `zencast serve` reads: removed from the inherited environment so the
// caller's shell (or a stray .env) cannot change what a test runs against.
const CONFIG_VARS = [
  'PORT', 'HOST', 'DATA_DIR', 'DATABASE_URL', 'REDIS_URL',
  'AWS_S3_BUCKET', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_S3_ENDPOINT',
  'JWT_SECRET', 'JWT_EXPIRES_IN', 'REFRESH_TOKEN_EXPIRES_IN', 'PARTICIPANT_TOKEN_EXPIRES_IN',
  'PUBLIC_URL', 'STATIC_DIR', 'LOG_LEVEL', 'ZENCAST_ENV',
  'LOGIN_MAX_FAILURES_PER_ACCOUNT', 'LOGIN_MAX_FAILURES_PER_ADDRESS', 'LOGIN_RATE_WINDOW',
  'HTTP_IDLE_TIMEOUT', 'MAX_BODY_BYTES', 'SHUTDOWN_GRACE',
];

// Servers still running when this process exits (a crashed test file) are killed with it.
const liveChildren = new Set();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Throws a readable error if the server binary is missing or not executable. */
export async function assertBinary() {
  try {
    await fs.access(ZENCAST_BIN, fsConstants.X_OK);
  } catch {
    throw new Error(
      `zencast binary not found or not executable: ${ZENCAST_BIN}\n` +
        'Build it with `cmake -S . -B build && cmake --build build`, or set ZENCAST_BIN.',
    );
  }
}

/** A TCP port that was free a moment ago (listen on port 0, note the port, close). */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => {
    srv.once('listening', resolve);
    srv.once('error', reject);
  });
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** A fresh temporary directory. */
export function makeTempDir(prefix = 'zencast-test-') {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/**
 * The inherited environment without any Zencast configuration, plus `overrides`.
 * An override whose value is undefined or null removes the variable.
 */
export function buildEnv(overrides = {}) {
  const env = { ...process.env };
  for (const name of CONFIG_VARS) delete env[name];
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined || value === null) delete env[name];
    else env[name] = String(value);
  }
  return env;
}

function randomSuffix(bytes = 6) {
  return randomBytes(bytes).toString('hex');
}

/**
 * A fresh PostgreSQL database when TEST_DATABASE_URL is set, otherwise null.
 * Returns { name, url, drop() }.
 */
export async function createTestDatabase() {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return null;
  const name = `zc_${randomSuffix()}`;
  await psql(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.href,
    drop: () => psql(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function psql(adminUrl, sql) {
  try {
    await execFileAsync('psql', [adminUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
      timeout: 30_000,
    });
  } catch (err) {
    throw new Error(`psql failed for ${JSON.stringify(sql)}: ${err.stderr || err.message}`);
  }
}

/**
 * Runs the binary to completion (e.g. `--help`, or `serve` with a bad configuration).
 * Resolves { code, signal, stdout, stderr }; if it has not exited after timeoutMs it is
 * killed and the promise rejects with its output.
 */
export async function runZencast(args, { env = {}, cwd, timeoutMs = 20_000 } = {}) {
  await assertBinary();
  const workDir = cwd ?? (await makeTempDir('zencast-run-'));
  const child = spawn(ZENCAST_BIN, args, { env: buildEnv(env), cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(
            `zencast ${args.join(' ')} did not exit within ${timeoutMs} ms\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`,
          ),
        );
      }, timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      // 'close' (not 'exit') so stdout/stderr are complete.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
  } finally {
    if (!cwd) await fs.rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Starts `zencast serve` on a free port with a temporary DATA_DIR and waits until
 * GET /readyz answers 200.
 *
 * options.env: variables added to (or, with undefined, removed from) the defaults.
 * options.port: listen on this port instead of a free one picked here (e.g. from freePort(),
 *   so PUBLIC_URL can name the server's own address: http://127.0.0.1:<port>).
 * options.dataDir: an existing folder to use as DATA_DIR; stop() leaves it in place, so a second
 *   server can start on the same data (the caller removes it).
 * options.database: a database from createTestDatabase() to use instead of a fresh one; stop()
 *   does not drop it, so a second server can use the same database (the caller drops it).
 */
export async function startServer({ env: overrides = {}, port: fixedPort, dataDir: sharedDataDir, database: sharedDatabase } = {}) {
  await assertBinary();
  const port = fixedPort ?? (await freePort());
  const ownDatabase = 'DATABASE_URL' in overrides || sharedDatabase ? null : await createTestDatabase();
  const database = sharedDatabase ?? ownDatabase;
  const tmpDir = await makeTempDir();
  const dataDir = sharedDataDir ?? path.join(tmpDir, 'data');
  if (!sharedDataDir) await fs.mkdir(dataDir);

  const env = buildEnv({
    PORT: port,
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    JWT_SECRET,
    LOG_LEVEL: 'info',
    LOGIN_MAX_FAILURES_PER_ADDRESS: 1000,
    // No embedded render worker unless a test asks for one: it would change recordings'
    // status under tests that watch it, and render their random test bytes.
    RENDER_WORKER: 'off',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...overrides,
  });

  // Run from the temporary directory so no .env file of the developer's is picked up.
  const child = spawn(ZENCAST_BIN, ['serve'], { env, cwd: tmpDir, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  const logWaiters = new Set();
  let stderr = '';
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
    for (const waiter of logWaiters) waiter();
  });

  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.once('error', (err) => {
      exitInfo = { code: null, signal: null, error: err };
      resolve(exitInfo);
    });
    child.once('close', (code, signal) => {
      exitInfo = { code, signal };
      for (const waiter of logWaiters) waiter();
      resolve(exitInfo);
    });
  });

  const url = `http://127.0.0.1:${port}`;
  let stopped = null;

  const server = {
    port,
    url,
    tmpDir,
    dataDir,
    env,
    databaseUrl: database?.url ?? null,
    process: child,
    /** Everything the server wrote to stderr so far. */
    log: () => stderr,
    stdout: () => stdout,
    /** Resolves { code, signal } once the process has exited. */
    exited,
    hasExited: () => exitInfo !== null,
    request: (method, urlPath, options) => request(url, method, urlPath, options),

    /** Resolves once the log matches `pattern` (string or RegExp); rejects after timeoutMs. */
    waitForLog(pattern, timeoutMs = 10_000) {
      const matches = () => (typeof pattern === 'string' ? stderr.includes(pattern) : pattern.test(stderr));
      if (matches()) return Promise.resolve(stderr);
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          logWaiters.delete(check);
        };
        const check = () => {
          if (matches()) {
            done();
            resolve(stderr);
          } else if (exitInfo) {
            done();
            reject(new Error(`server exited before its log matched ${pattern}\n--- log ---\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`log did not match ${pattern} within ${timeoutMs} ms\n--- log ---\n${stderr}`));
        }, timeoutMs);
        logWaiters.add(check);
      });
    },

    /** Sends a signal without waiting. */
    kill: (signal = 'SIGTERM') => child.kill(signal),

    /**
     * Sends SIGTERM (unless the process already exited), waits for the exit and cleans up.
     * Resolves { code, signal, log }. If the server does not exit within timeoutMs it is
     * killed with SIGKILL and the result says so (code null, signal 'SIGKILL').
     */
    stop({ signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS } = {}) {
      stopped ??= (async () => {
        if (!exitInfo) child.kill(signal);
        let timer;
        const timedOut = new Promise((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
        let result = await Promise.race([exited, timedOut]);
        if (result === 'timeout') {
          child.kill('SIGKILL');
          result = await exited;
          stderr += `\n[test harness] server did not exit within ${timeoutMs} ms of ${signal}; killed it\n`;
        }
        clearTimeout(timer);
        try {
          await ownDatabase?.drop();
        } finally {
          await fs.rm(tmpDir, { recursive: true, force: true });
        }
        return { code: result.code, signal: result.signal, log: stderr };
      })();
      return stopped;
    },
  };

  try {
    await waitUntilReady(server);
  } catch (err) {
    await server.stop({ signal: 'SIGKILL' });
    throw err;
  }
  return server;
}

async function waitUntilReady(server) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (server.hasExited()) {
      const info = await server.exited;
      const how = info.error ? `failed to start (${info.error.message})` : `exited with code ${info.code} signal ${info.signal}`;
      throw new Error(`zencast serve ${how} before /readyz was 200\n--- stderr ---\n${server.log()}`);
    }
    try {
      const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      lastProblem = `/readyz answered ${res.status}`;
    } catch (err) {
      lastProblem = `${err.message}${err.cause ? ` (${err.cause.code ?? err.cause.message})` : ''}`;
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  throw new Error(
    `zencast serve on port ${server.port} not ready after ${READY_TIMEOUT_MS} ms (${lastProblem})\n--- stderr ---\n${server.log()}`,
  );
}

/** A unique, valid e-mail address. */
export function uniqueEmail(tag = 'user') {
  return `${tag}-${randomSuffix()}@example.com`;
}

/** Registers a fresh user; resolves the 201 body plus the password and email used. */
export async function registerUser(server, { email = uniqueEmail(), password = `pw-${randomSuffix()}-Secret`, name = 'Test User' } = {}) {
  const res = await server.request('POST', '/api/auth/register', { body: { email, password, name } });
  if (res.status !== 201) {
    throw new Error(`register ${email} failed: ${res.status} ${res.text}`);
  }
  return { ...res.body, email: res.body.user.email, password, name };
}

/** Polls `fn` until it returns a truthy value; rejects after timeoutMs. */
export async function waitFor(fn, { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
}
