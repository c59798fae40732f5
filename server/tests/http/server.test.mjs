// The process: health endpoints, CLI, configuration errors, logging, static files,
// connection limits and graceful shutdown.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

import { JWT_SECRET, createTestDatabase, freePort, makeTempDir, registerUser, runZencast, startServer, uniqueEmail, waitFor } from './lib/server.mjs';
import { completeResponse, rawHttp, rawTcp, statusOf } from './lib/client.mjs';
import { assertError, assertJson, stopAndCheck, withServer } from './lib/expect.mjs';

const INDEX_HTML = `<!doctype html><html><head><title>zencast test index ${randomBytes(4).toString('hex')}</title></head><body><div id="app"></div></body></html>\n`;
const APP_JS = `console.log("zencast test bundle ${randomBytes(4).toString('hex')}");\n`;
const OUTSIDE_SECRET = `secret-outside-static-dir-${randomBytes(8).toString('hex')}`;

let server;
let staticRoot; // holds dist/ (STATIC_DIR) and, beside it, a file that must never be served
let staticDir;
const secrets = [JWT_SECRET]; // text that must never show up in the log

before(async () => {
  staticRoot = await makeTempDir('zencast-static-');
  staticDir = path.join(staticRoot, 'dist');
  await fs.mkdir(path.join(staticDir, 'assets'), { recursive: true });
  await fs.writeFile(path.join(staticDir, 'index.html'), INDEX_HTML);
  await fs.writeFile(path.join(staticDir, 'assets', 'app.js'), APP_JS);
  await fs.writeFile(path.join(staticRoot, 'secret.txt'), OUTSIDE_SECRET);
  server = await startServer({ env: { STATIC_DIR: staticDir } });
});

after(async () => {
  try {
    const result = await stopAndCheck(server);
    if (result) {
      for (const secret of secrets) assert.ok(!result.log.includes(secret), `the log contains a secret (${secret.slice(0, 12)}...)`);
    }
  } finally {
    if (staticRoot) await fs.rm(staticRoot, { recursive: true, force: true });
  }
});

/** The server still answers /healthz (with a clear message if it died). */
async function assertAlive(srv) {
  let res;
  try {
    res = await srv.request('GET', '/healthz');
  } catch (err) {
    const info = srv.hasExited() ? await srv.exited : null;
    throw new Error(`the server no longer answers /healthz (${err.cause?.code ?? err.message}${info ? `; it exited with code ${info.code}, signal ${info.signal}` : ''})`);
  }
  assertJson(res, 200);
}

describe('health', () => {
  test('GET /healthz -> 200 {"status":"ok"}', async () => {
    const res = await server.request('GET', '/healthz');
    assertJson(res, 200);
    assert.equal(res.body.status, 'ok');
  });

  test('GET /readyz -> 200 {"status":"ready"}', async () => {
    const res = await server.request('GET', '/readyz');
    assertJson(res, 200);
    assert.equal(res.body.status, 'ready');
  });

  test('the log says where it listens', () => {
    assert.ok(server.log().includes(`listening on http://127.0.0.1:${server.port}`), server.log());
  });

  test('PUBLIC_URL defaults to http://localhost:PORT (in invite URLs)', async () => {
    const u = await registerUser(server);
    const res = await server.request('POST', '/api/recordings', { token: u.accessToken, body: { title: 'default public url' } });
    assertJson(res, 201);
    const { roomId, inviteToken, inviteUrl } = res.body.recording;
    assert.equal(inviteUrl, `http://localhost:${server.port}/join/${roomId}?invite=${inviteToken}`);
  });
});

describe('command line', () => {
  for (const args of [['--help'], ['serve', '--help'], ['worker', '--help'], ['migrate', '--help']]) {
    test(`zencast ${args.join(' ')} exits 0 with usage on stdout`, async () => {
      const { code, stdout } = await runZencast(args);
      assert.equal(code, 0);
      assert.ok(stdout.trim().length > 0, 'usage on stdout');
      if (args.length > 1) assert.ok(stdout.includes(args[0]), `usage mentions ${args[0]}`);
    });
  }

  test('an unknown sub-command or option exits 2 with usage on stderr', async () => {
    for (const args of [['frobnicate'], ['serve', '--no-such-option']]) {
      const { code, stderr } = await runZencast(args, { env: { JWT_SECRET } });
      assert.equal(code, 2, `zencast ${args.join(' ')}: exit code`);
      assert.ok(stderr.trim().length > 0, 'usage on stderr');
    }
  });

  const badConfig = [
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['JWT_EXPIRES_IN', { JWT_EXPIRES_IN: 'soon' }],
    ['REFRESH_TOKEN_EXPIRES_IN', { REFRESH_TOKEN_EXPIRES_IN: '7 days' }],
    ['JWT_SECRET', { JWT_SECRET: 'short' }],
    ['JWT_SECRET', { JWT_SECRET: 'x'.repeat(31) }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['JWT_SECRET', { ZENCAST_ENV: 'production', JWT_SECRET: undefined }],
  ];
  for (const [name, env] of badConfig) {
    test(`serve with ${JSON.stringify(env)} exits 1 naming ${name}`, async () => {
      const dataDir = await makeTempDir('zencast-badconfig-');
      try {
        const { code, stderr } = await runZencast(['serve'], {
          env: { PORT: await freePort(), HOST: '127.0.0.1', DATA_DIR: dataDir, JWT_SECRET, ...env },
        });
        assert.equal(code, 1, `exit code\n--- stderr ---\n${stderr}`);
        assert.ok(stderr.includes(name), `stderr should name ${name}:\n${stderr}`);
      } finally {
        await fs.rm(dataDir, { recursive: true, force: true });
      }
    });
  }

  test('without JWT_SECRET in development a secret is generated into DATA_DIR/jwt-secret', async () => {
    await withServer({ env: { JWT_SECRET: undefined } }, async (dev) => {
      const secret = (await fs.readFile(path.join(dev.dataDir, 'jwt-secret'), 'utf8')).trim();
      assert.ok(Buffer.byteLength(secret) >= 32, 'generated secret has at least 32 bytes');
      const u = await registerUser(dev);
      assertJson(await dev.request('GET', '/api/me', { token: u.accessToken }), 200);
      assert.ok(!dev.log().includes(secret), 'the generated secret is not logged');
    });
  });
});

describe('logging', () => {
  test('one line per request, without the query string, passwords or tokens', async () => {
    const password = `pw-${randomBytes(8).toString('hex')}-do-not-log`;
    const u = await registerUser(server, { password });
    secrets.push(password, u.accessToken, u.refreshToken);

    const failed = await server.request('POST', '/api/auth/login', { body: { email: u.email, password: `${password}-wrong` } });
    assert.equal(failed.status, 401);
    secrets.push(`${password}-wrong`);
    const login = await server.request('POST', '/api/auth/login', { body: { email: u.email, password } });
    assert.equal(login.status, 200);
    secrets.push(login.body.accessToken, login.body.refreshToken);
    const refreshed = await server.request('POST', '/api/auth/refresh', { body: { refreshToken: login.body.refreshToken } });
    assert.equal(refreshed.status, 200);
    secrets.push(refreshed.body.accessToken, refreshed.body.refreshToken);
    assert.equal((await server.request('GET', '/api/me', { token: refreshed.body.accessToken })).status, 200);

    const rec = await server.request('POST', '/api/recordings', { token: u.accessToken, body: { title: 'logged?' } });
    assert.equal(rec.status, 201);
    secrets.push(rec.body.recording.inviteToken);
    const join = await server.request('POST', `/api/rooms/${rec.body.recording.roomId}/join`, {
      body: { inviteToken: rec.body.recording.inviteToken, name: 'Log Guest' },
    });
    assert.equal(join.status, 201);
    secrets.push(join.body.participantToken);

    const marker = randomBytes(6).toString('hex');
    const querySecret = `q-${randomBytes(8).toString('hex')}`;
    secrets.push(querySecret);
    await server.request('GET', `/api/nope-${marker}?token=${querySecret}`, { token: join.body.participantToken });

    // The last request's line appears once it is done; everything before it is logged by then.
    await server.waitForLog(new RegExp(`GET /api/nope-${marker} 404 \\d+B \\d+ms`));
    const log = server.log();
    assert.match(log, /POST \/api\/auth\/login 401 \d+B \d+ms/);
    assert.match(log, /POST \/api\/auth\/login 200 \d+B \d+ms/);
    assert.match(log, /POST \/api\/auth\/register 201 \d+B \d+ms/);
    assert.match(log, /GET \/api\/me 200 \d+B \d+ms/);
    assert.match(log, /POST \/api\/rooms\/[0-9a-f-]{36}\/join 201 \d+B \d+ms/);
    for (const secret of secrets) {
      assert.ok(!log.includes(secret), `the log contains a password or token: ${secret.slice(0, 16)}...`);
    }
    // Not even the signature part of a token.
    for (const token of [u.accessToken, join.body.participantToken]) {
      assert.ok(!log.includes(token.split('.')[2]), 'the log contains a token signature');
    }
  });
});

describe('static files', () => {
  test('GET / serves index.html as text/html', async () => {
    const res = await server.request('GET', '/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.text, INDEX_HTML);
  });

  test('an unknown non-API path falls back to index.html (single-page app)', async () => {
    for (const p of ['/studio/abc', '/join/3f0c8a62-1f5e-4c55-9d5e-1b7cfa2d1e11?invite=x', '/some/deep/path']) {
      const res = await server.request('GET', p);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, p);
      assert.equal(res.text, INDEX_HTML, p);
    }
  });

  test('/assets/app.js is served as JavaScript', async () => {
    const res = await server.request('GET', '/assets/app.js');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.equal(res.text, APP_JS);
  });

  test('HEAD / has the headers and no body', async () => {
    const res = await server.request('HEAD', '/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.text, '');
  });

  test('static requests are logged too, with the bytes sent', async () => {
    const marker = randomBytes(4).toString('hex');
    await fs.writeFile(path.join(staticDir, 'assets', `logged-${marker}.js`), APP_JS);
    assert.equal((await server.request('GET', `/assets/logged-${marker}.js`)).status, 200);
    assert.equal((await server.request('HEAD', `/assets/logged-${marker}.js`)).status, 200);
    const log = await server.waitForLog(new RegExp(`GET /assets/logged-${marker}\\.js 200 \\d+B \\d+ms`));
    const bytes = Number(new RegExp(`GET /assets/logged-${marker}\\.js 200 (\\d+)B`).exec(log)[1]);
    assert.ok(bytes >= Buffer.byteLength(APP_JS), `logged ${bytes}B for a ${Buffer.byteLength(APP_JS)}-byte file`);
    await server.waitForLog(new RegExp(`HEAD /assets/logged-${marker}\\.js 200 \\d+B \\d+ms`));
  });

  test('content types by extension', async () => {
    const files = {
      'style.css': [/^text\/css/, 'body{}'],
      'logo.svg': [/^image\/svg\+xml/, '<svg xmlns="http://www.w3.org/2000/svg"/>'],
      'pic.png': [/^image\/png/, Buffer.from('89504e470d0a1a0a', 'hex')],
      'data.json': [/^application\/json/, '{"a":1}'],
      'favicon.ico': [/^image\/(x-icon|vnd\.microsoft\.icon)/, Buffer.from([0, 0, 1, 0])],
      'font.woff2': [/^font\/woff2/, 'wOF2'],
      'app.js.map': [/^application\/(json|source-map)/, '{"version":3}'],
      'site.webmanifest': [/^application\/(manifest\+json|json)/, '{"name":"z"}'],
    };
    for (const [name, [, content]] of Object.entries(files)) await fs.writeFile(path.join(staticDir, 'assets', name), content);
    for (const [name, [type]] of Object.entries(files)) {
      const res = await server.request('GET', `/assets/${name}`);
      assert.equal(res.status, 200, name);
      assert.match(res.headers.get('content-type') ?? '', type, `Content-Type of ${name}`);
    }
  });

  test('paths with .. never escape STATIC_DIR', async () => {
    const passwd = await fs.readFile('/etc/passwd', 'utf8');
    const attempts = [
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd',
      '/assets/../../../../../../etc/passwd',
      '/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/....//....//....//etc/passwd',
      '/..\\..\\..\\etc\\passwd',
      '/%252e%252e/%252e%252e/etc/passwd',
      '//etc/passwd',
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/.%2e/secret.txt',
    ];
    for (const attempt of attempts) {
      let res;
      try {
        res = await rawHttp({ port: server.port, path: attempt });
      } catch {
        continue; // a closed connection leaks nothing
      }
      assert.ok(!res.text.includes('root:x:0:0') && !res.text.includes(passwd.slice(0, 40)), `${attempt} served /etc/passwd`);
      assert.ok(!res.text.includes(OUTSIDE_SECRET), `${attempt} served a file outside STATIC_DIR`);
    }
    await assertAlive(server);
  });
});

describe('connection limits', () => {
  test('request headers above 8 KiB get 431 or a closed connection, and the server lives on', async () => {
    // A server of its own, so a crash here does not take the other tests down with it.
    await withServer({}, async (srv) => {
      const oneBig = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`;
      let many = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n';
      for (let i = 0; i < 300; i++) many += `X-Header-${i}: ${'b'.repeat(60)}\r\n`;
      many += '\r\n';
      for (const request of [oneBig, many]) {
        const { received, closed } = await rawTcp(srv.port, request);
        const status = statusOf(received);
        assert.ok(status === 431 || (status === null && closed), `expected 431 or a close, got ${JSON.stringify(received.slice(0, 200))}`);
        await assertAlive(srv);
      }
    });
  });

  test('idle connections are closed after HTTP_IDLE_TIMEOUT', async () => {
    await withServer({ env: { HTTP_IDLE_TIMEOUT: '2s' } }, async (idle) => {
      const [silent, partial, keptAlive] = await Promise.all([
        rawTcp(idle.port, null, { untilClose: true }),
        rawTcp(idle.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', { untilClose: true }),
        rawTcp(idle.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', { untilClose: true }),
      ]);
      for (const [name, result] of Object.entries({ silent, partial, keptAlive })) {
        assert.ok(result.closed, `${name} connection closed`);
        assert.ok(result.elapsedMs >= 1000, `${name} connection closed after ${result.elapsedMs} ms; expected about 2 s`);
      }
      assert.equal(statusOf(keptAlive.received), 200, 'the kept-alive connection got its response first');
      assertJson(await idle.request('GET', '/healthz'), 200);
    });
  });
});

describe('shutdown', () => {
  test('SIGTERM during a request: /readyz turns 503, the request finishes, exit 0', async () => {
    let socket;
    await withServer({}, async (victim) => {
      const u = await registerUser(victim, { email: uniqueEmail('shutdown') });
      socket = net.connect(victim.port, '127.0.0.1');
      let received = Buffer.alloc(0);
      socket.on('data', (d) => {
        received = Buffer.concat([received, d]);
      });
      socket.on('error', () => {}); // a reset shows up as socket.destroyed below
      const nextResponse = () =>
        waitFor(() => completeResponse(received) || socket.destroyed, { timeoutMs: 15_000, intervalMs: 20, what: 'a response' });

      // First a whole request, so the server has certainly accepted this connection.
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await nextResponse();
      assert.equal(statusOf(received.toString('latin1')), 200);
      received = Buffer.alloc(0);

      // Now the head and half the body of a login.
      const body = JSON.stringify({ email: u.email, password: u.password });
      const half = Math.floor(body.length / 2);
      socket.write(
        `POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
      );
      // A round trip on another connection: by then the server has read what we sent before.
      assertJson(await victim.request('GET', '/healthz'), 200);

      victim.kill('SIGTERM');
      await waitFor(
        async () => {
          try {
            const res = await victim.request('GET', '/readyz');
            if (res.status === 200) return false;
            assertError(res, 503, 'unavailable');
            return true;
          } catch (err) {
            if (err.code === 'ERR_ASSERTION') throw err;
            return true; // listener already closed: also not ready
          }
        },
        { timeoutMs: 10_000, what: '/readyz to stop answering 200' },
      );

      socket.write(body.slice(half));
      await nextResponse();
      const response = received.toString('latin1');
      assert.equal(statusOf(response), 200, `the in-flight login should complete, got ${JSON.stringify(response.slice(0, 300))}`);
      assert.match(response, /"accessToken"/);

      const { code, signal } = await victim.exited;
      assert.equal(code, 0, `exit code (signal ${signal})\n--- log ---\n${victim.log()}`);
      assert.match(victim.log(), /shutdown complete/);
      assert.match(victim.log(), /POST \/api\/auth\/login 200/);
    }).finally(() => socket?.destroy());
  });
});

describe('database migrations', () => {
  test('zencast migrate applies the schema once and is idempotent', async () => {
    const database = await createTestDatabase();
    const dataDir = await makeTempDir('zencast-migrate-');
    const env = { DATA_DIR: dataDir, ...(database ? { DATABASE_URL: database.url } : {}) };
    try {
      const first = await runZencast(['migrate'], { env });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /applied migration 1 \(001_init\)/);
      const second = await runZencast(['migrate'], { env });
      assert.equal(second.code, 0, second.stderr);
      assert.doesNotMatch(second.stderr, /applied migration/);
      assert.match(second.stderr, /migrations up to date/);
    } finally {
      await database?.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  test('PostgreSQL: two servers starting at once on one empty database both come up', { skip: !process.env.TEST_DATABASE_URL && 'needs TEST_DATABASE_URL' }, async () => {
    const database = await createTestDatabase();
    let servers = [];
    try {
      const started = await Promise.allSettled([0, 1].map(() => startServer({ env: { DATABASE_URL: database.url } })));
      servers = started.filter((s) => s.status === 'fulfilled').map((s) => s.value);
      for (const s of started) assert.equal(s.status, 'fulfilled', String(s.reason));
      const logs = servers.map((s) => s.log());
      assert.equal(logs.filter((l) => /applied migration 1/.test(l)).length, 1, 'exactly one server applies the migration');
      const { email, password } = await registerUser(servers[0]);
      const login = await servers[1].request('POST', '/api/auth/login', { body: { email, password } });
      assert.equal(login.status, 200, 'a user registered on one instance signs in on the other');
    } finally {
      for (const s of servers) await stopAndCheck(s);
      await database.drop();
    }
  });
});
