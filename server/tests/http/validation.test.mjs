// Request validation: JSON parsing, field types and lengths, body size and framing,
// hostile strings, unknown routes and methods.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';

import { registerUser, startServer, uniqueEmail } from './lib/server.mjs';
import { rawHttp } from './lib/client.mjs';
import { assertError, assertInvalidField, assertJson, stopAndCheck } from './lib/expect.mjs';

let server;
let host; // a registered user
let room; // one of host's recordings, for joins

before(async () => {
  server = await startServer();
  host = await registerUser(server, { name: 'Validation Host' });
  const rec = await server.request('POST', '/api/recordings', { token: host.accessToken, body: { title: 'validation room' } });
  assert.equal(rec.status, 201, rec.text);
  room = rec.body.recording;
});

after(async () => {
  await stopAndCheck(server);
});

/** A valid register body; overrides with undefined remove the field. */
function registerBody(overrides = {}) {
  const body = { email: uniqueEmail('v'), password: 'valid-password-1', name: 'Valid Name', ...overrides };
  for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
  return body;
}

const post = (path, options) => server.request('POST', path, options);
const register = (overrides) => post('/api/auth/register', { body: registerBody(overrides) });
const createRecording = (body, token = host.accessToken) => post('/api/recordings', { body, token });
const join = (body) => post(`/api/rooms/${room.roomId}/join`, { body });

/** A request whose connection the server may close instead of answering: resolves null then. */
async function requestOrClosed(method, path, options) {
  try {
    return await server.request(method, path, options);
  } catch (err) {
    if (['UND_ERR_SOCKET', 'ECONNRESET', 'UND_ERR_CLOSED'].includes(err.cause?.code)) return null;
    throw err;
  }
}

/** An e-mail address of exactly `length` bytes (short local part, 49-letter domain labels). */
function emailOfLength(length) {
  const local = `u${randomBytes(6).toString('hex')}`;
  const middle = length - local.length - 1 - '.com'.length;
  const full = Math.floor(middle / 50);
  const rest = middle - full * 50;
  assert.ok(rest > 0, 'emailOfLength: pick another length');
  const email = `${local}@${`${'a'.repeat(49)}.`.repeat(full)}${'a'.repeat(rest)}.com`;
  assert.equal(Buffer.byteLength(email), length);
  return email;
}

describe('JSON bodies', () => {
  const notJson = ['{', '{"email": "a@b.co",}', "{'email': 'a@b.co'}", 'nul', '{"a":1} trailing', '{"a":1}{"b":2}'];
  const notObjects = ['[]', '[{"email":"a@b.co","password":"valid-password-1","name":"x"}]', '"a string"', '42', 'null', 'true'];

  for (const raw of [...notJson, ...notObjects]) {
    test(`${JSON.stringify(raw)} -> 400 invalid_json on every JSON route`, async () => {
      const routes = [
        ['/api/auth/register', undefined],
        ['/api/auth/login', undefined],
        ['/api/auth/refresh', undefined],
        ['/api/auth/logout', undefined],
        ['/api/recordings', host.accessToken],
        [`/api/rooms/${room.roomId}/join`, undefined],
      ];
      for (const [path, token] of routes) {
        const res = await post(path, { raw, contentType: 'application/json', token });
        assertError(res, 400, 'invalid_json');
      }
    });
  }

  test('invalid UTF-8 inside a JSON string -> 400', async () => {
    const raw = Buffer.concat([Buffer.from('{"email":"x@example.com","password":"valid-password-1","name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const res = await post('/api/auth/register', { raw, contentType: 'application/json' });
    assertJson(res, 400);
    assert.ok(['invalid_json', 'invalid_field'].includes(res.body.error.code), res.text);
  });

  test('an empty body -> 400', async () => {
    const res = await post('/api/auth/register', { raw: '', contentType: 'application/json' });
    assertJson(res, 400);
    assert.ok(['invalid_json', 'invalid_field'].includes(res.body.error.code), res.text);
  });

  test('Content-Type application/json; charset=utf-8 is accepted', async () => {
    const res = await post('/api/auth/register', { raw: JSON.stringify(registerBody()), contentType: 'application/json; charset=utf-8' });
    assertJson(res, 201);
  });
});

describe('field types and presence', () => {
  test('register: wrong types name the field', async () => {
    assertInvalidField(await register({ email: 42 }), 'email');
    assertInvalidField(await register({ password: ['valid-password-1'] }), 'password');
    assertInvalidField(await register({ name: { first: 'Ada' } }), 'name');
    assertInvalidField(await register({ name: null }), 'name');
    assertInvalidField(await register({ email: true }), 'email');
  });

  test('register: each missing field is named', async () => {
    assertInvalidField(await register({ email: undefined }), 'email');
    assertInvalidField(await register({ password: undefined }), 'password');
    assertInvalidField(await register({ name: undefined }), 'name');
  });

  test('login: wrong types and missing fields', async () => {
    assertInvalidField(await post('/api/auth/login', { body: { email: 42, password: 'valid-password-1' } }), 'email');
    assertInvalidField(await post('/api/auth/login', { body: { email: host.email, password: ['x'] } }), 'password');
    assertInvalidField(await post('/api/auth/login', { body: { password: 'valid-password-1' } }), 'email');
    assertInvalidField(await post('/api/auth/login', { body: { email: host.email } }), 'password');
  });

  test('recordings: title 42, missing, empty or blank', async () => {
    assertInvalidField(await createRecording({ title: 42 }), 'title');
    assertInvalidField(await createRecording({ title: ['x'] }), 'title');
    assertInvalidField(await createRecording({}), 'title');
    assertInvalidField(await createRecording({ title: '' }), 'title');
    assertInvalidField(await createRecording({ title: '   \t ' }), 'title');
  });

  test('join: wrong types and missing fields', async () => {
    assertInvalidField(await join({ inviteToken: room.inviteToken, name: 42 }), 'name');
    assertInvalidField(await join({ inviteToken: room.inviteToken }), 'name');
    assertInvalidField(await join({ inviteToken: 42, name: 'Guest' }), 'inviteToken');
    assertInvalidField(await join({ name: 'Guest' }), 'inviteToken');
  });
});

describe('field values and lengths', () => {
  test('name: empty or whitespace only -> 400 name', async () => {
    for (const name of ['', ' ', '   \t  ']) assertInvalidField(await register({ name }), 'name');
  });

  test('name: 100 bytes ok, 101 bytes too long (bytes, not characters)', async () => {
    assertJson(await register({ name: 'n'.repeat(100) }), 201);
    assertJson(await register({ name: 'é'.repeat(50) }), 201);
    assertInvalidField(await register({ name: 'n'.repeat(101) }), 'name');
    assertInvalidField(await register({ name: 'é'.repeat(51) }), 'name');
    assertInvalidField(await register({ name: 'n'.repeat(10_000) }), 'name');
  });

  test('name: control characters are refused', async () => {
    for (const name of ['bell\u0007', 'new\nline', 'tab\there', 'esc\u001b[31m', 'del\u007f']) {
      assertInvalidField(await register({ name }), 'name');
      assertInvalidField(await join({ inviteToken: room.inviteToken, name }), 'name');
    }
  });

  test('a NUL escaped in JSON ("\\u0000") is valid JSON, refused as a control character (invalid_field)', async () => {
    assertInvalidField(await register({ name: 'nul\u0000byte' }), 'name');
    assertInvalidField(await register({ email: `nul\u0000${uniqueEmail()}` }), 'email');
    assertInvalidField(await join({ inviteToken: room.inviteToken, name: 'nul\u0000byte' }), 'name');
    // title: the spec only limits its length, so it may be kept verbatim (NUL included) or refused.
    const rec = await createRecording({ title: 'nul\u0000title' });
    if (rec.status === 201) {
      const got = await server.request('GET', `/api/recordings/${rec.body.recording.roomId}`, { token: host.accessToken });
      assert.equal(got.body.recording.title, 'nul\u0000title', 'a NUL in a title must not truncate it');
    } else {
      assertInvalidField(rec, 'title');
    }
  });

  test('password: 8..256 bytes', async () => {
    assertInvalidField(await register({ password: '1234567' }), 'password');
    assertJson(await register({ password: '12345678' }), 201);
    assertJson(await register({ password: 'p'.repeat(256) }), 201);
    assertInvalidField(await register({ password: 'p'.repeat(257) }), 'password');
    assertInvalidField(await register({ password: 'p'.repeat(20_000) }), 'password');
  });

  test('title: 200 bytes ok, 201 too long', async () => {
    assertJson(await createRecording({ title: 't'.repeat(200) }), 201);
    assertInvalidField(await createRecording({ title: 't'.repeat(201) }), 'title');
    assertInvalidField(await createRecording({ title: 'ü'.repeat(101) }), 'title');
  });

  test('email: 254 bytes ok, 255 too long', async () => {
    const ok = await register({ email: emailOfLength(254) });
    assertJson(ok, 201);
    assertInvalidField(await register({ email: emailOfLength(255) }), 'email');
  });

  test('email: malformed addresses', async () => {
    const bad = ['', 'no-at-sign.example.com', '@example.com', 'two@@example.com', 'a@b@example.com', 'user@localhost', 'sp ace@example.com',
      'user@exa mple.com', 'tab\t@example.com', 'bell\u0007@example.com', 'a@', 'ab'];
    for (const email of bad) assertInvalidField(await register({ email }), 'email');
  });
});

describe('body size and framing', () => {
  /** A register body padded (with an ignored field) to exactly `size` bytes. */
  function paddedBody(size) {
    const body = registerBody({ pad: '' });
    const base = Buffer.byteLength(JSON.stringify(body));
    body.pad = 'p'.repeat(size - base);
    const raw = JSON.stringify(body);
    assert.equal(Buffer.byteLength(raw), size);
    return raw;
  }

  test('exactly 64 KiB is accepted; one byte more is 413 payload_too_large', async () => {
    assertJson(await post('/api/auth/register', { raw: paddedBody(65_536), contentType: 'application/json' }), 201);
    assertError(await post('/api/auth/register', { raw: paddedBody(65_537), contentType: 'application/json' }), 413, 'payload_too_large');
  });

  test('a 10 MB body is refused (413 or an early close) and the server lives on', async () => {
    const raw = Buffer.alloc(10 * 1024 * 1024, 'a');
    try {
      const res = await post('/api/auth/register', { raw, contentType: 'application/json' });
      assertError(res, 413, 'payload_too_large');
    } catch (err) {
      // The server may answer early and close; fetch then reports the reset.
      const code = err.cause?.code ?? '';
      assert.ok(
        ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'].includes(code) || /other side closed|socket/i.test(String(err.cause?.message)),
        `unexpected error: ${err.message} ${err.cause?.code} ${err.cause?.message}`,
      );
    }
    const health = await server.request('GET', '/healthz');
    assertJson(health, 200);
  });

  test('Content-Type text/plain -> 415 unsupported_media_type', async () => {
    const raw = JSON.stringify(registerBody());
    assertError(await post('/api/auth/register', { raw, contentType: 'text/plain' }), 415, 'unsupported_media_type');
    assertError(await post('/api/auth/login', { raw, contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    assertError(await post('/api/recordings', { raw: '{"title":"x"}', contentType: 'text/plain', token: host.accessToken }), 415, 'unsupported_media_type');
  });

  test('a body without a Content-Type -> 415', async () => {
    const raw = Buffer.from(JSON.stringify(registerBody()));
    assertError(await post('/api/auth/register', { raw }), 415, 'unsupported_media_type');
  });

  test('a chunked body (no Content-Length) -> 411 length_required', async () => {
    const body = JSON.stringify(registerBody());
    const res = await rawHttp({
      port: server.port,
      method: 'POST',
      path: '/api/auth/register',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      chunks: [body.slice(0, 10), body.slice(10)],
    });
    assert.equal(res.status, 411, res.text);
    assert.equal(JSON.parse(res.text).error.code, 'length_required');
    assertJson(await server.request('GET', '/healthz'), 200);
  });
});

describe('hostile strings', () => {
  const HOSTILE = [
    "'); DROP TABLE users; --",
    "Robert'); DROP TABLE recordings; --",
    '" OR 1=1 --',
    "' OR '1'='1",
    "x' UNION SELECT password_hash FROM users --",
    '\\',
    "\\'; --",
    '%',
    '_',
    '%_%',
    '$1 ? :name @p0',
    'Zoë Ünïcødé 🎙️ 日本語 — ½ \u202e',
    'nul\u0000byte',
  ];
  const hasControl = (s) => /[\u0000-\u001f\u007f]/.test(s);
  const hasNul = (s) => s.includes('\u0000');
  // A NUL gets its own test above; here a refusal as invalid_json is not counted twice.
  const assertRefused = (res, field, s) => {
    if (hasNul(s) && res.body?.error?.code === 'invalid_json') assertError(res, 400, 'invalid_json');
    else assertInvalidField(res, field);
  };
  // "lower-cased": ASCII at least; full Unicode lower-casing is also accepted.
  const normalizedEmail = (email) => {
    const trimmed = email.trim();
    return [trimmed.replace(/[A-Z]/g, (c) => c.toLowerCase()), trimmed.toLowerCase()];
  };

  let canary; // a user whose data must come through unchanged
  let canaryMe;
  let canaryRecording;
  let canaryList;
  let titleUser; // the user the hostile titles are created for

  before(async () => {
    canary = await registerUser(server, { name: "O'Canary \"Bird\"" });
    const rec = await createRecording({ title: "Canary's \"show\"; --" }, canary.accessToken);
    assert.equal(rec.status, 201, rec.text);
    canaryMe = (await server.request('GET', '/api/me', { token: canary.accessToken })).body;
    canaryRecording = (await server.request('GET', `/api/recordings/${rec.body.recording.roomId}`, { token: canary.accessToken })).body;
    canaryList = (await server.request('GET', '/api/recordings', { token: canary.accessToken })).body;
    assert.ok(canaryRecording?.recording, 'canary recording readable');
    titleUser = await registerUser(server);
  });

  for (const s of HOSTILE) {
    test(`${JSON.stringify(s)} in every string field`, async () => {
      // register.name: stored verbatim, or refused; control characters always refused.
      const reg = await register({ name: s });
      if (hasControl(s)) {
        assertRefused(reg, 'name', s);
      } else if (reg.status === 201) {
        assert.equal(reg.body.user.name, s);
        const me = await server.request('GET', '/api/me', { token: reg.body.accessToken });
        assertJson(me, 200);
        assert.equal(me.body.user.name, s, 'name read back verbatim');
      } else {
        assertRefused(reg, 'name', s);
      }

      // register.email: refused, or stored trimmed and lower-cased and usable for login.
      for (const email of [s, `${s.replace(/\s/g, '')}${randomBytes(3).toString('hex')}@example.com`]) {
        const res = await register({ email, password: 'valid-password-1' });
        if (res.status === 201) {
          assert.ok(!hasControl(email), 'control characters are refused in email');
          assert.equal(email.split('@').length, 2, 'an email has exactly one @');
          assert.ok(normalizedEmail(email).includes(res.body.user.email), `email stored as ${JSON.stringify(res.body.user.email)}`);
          const login = await post('/api/auth/login', { body: { email, password: 'valid-password-1' } });
          assertJson(login, 200);
          assert.equal(login.body.user.id, res.body.user.id);
        } else {
          assertRefused(res, 'email', email);
        }
      }

      // register.password: accepted (and then only the exact password logs in) or refused.
      const password = `${s}${s}-password`;
      const withPassword = await register({ password });
      if (withPassword.status === 201) {
        const email = withPassword.body.user.email;
        assertJson(await post('/api/auth/login', { body: { email, password } }), 200);
        for (const wrong of [password.split('\u0000')[0], `${password}x`, "' OR '1'='1"]) {
          if (wrong === password) continue;
          const res = await post('/api/auth/login', { body: { email, password: wrong } });
          assert.ok([400, 401].includes(res.status), `login with a wrong password gave ${res.status} ${res.text}`);
        }
      } else {
        assertRefused(withPassword, 'password', s);
      }

      // login: never succeeds, never crashes. (A user of its own, so the failures do not lock out anyone else.)
      const target = await registerUser(server);
      for (const body of [{ email: s, password: s }, { email: target.email, password: s }, { email: s, password: target.password }]) {
        const res = await post('/api/auth/login', { body });
        assertJson(res, res.status);
        assert.ok([400, 401].includes(res.status), `login ${JSON.stringify(body)} gave ${res.status} ${res.text}`);
      }

      // refresh/logout tokens.
      const refresh = await post('/api/auth/refresh', { body: { refreshToken: s } });
      if (refresh.status === 400) assertRefused(refresh, 'refreshToken', s);
      else assertError(refresh, 401, 'invalid_refresh_token');
      const logout = await post('/api/auth/logout', { body: { refreshToken: s } });
      assert.ok([204, 400].includes(logout.status), `logout gave ${logout.status}`);

      // recordings.title: stored verbatim and read back identical, or refused.
      const rec = await createRecording({ title: s }, titleUser.accessToken);
      if (rec.status === 201) {
        assert.equal(rec.body.recording.title, s);
        const got = await server.request('GET', `/api/recordings/${rec.body.recording.roomId}`, { token: titleUser.accessToken });
        assertJson(got, 200);
        assert.equal(got.body.recording.title, s, 'title read back verbatim');
        const list = await server.request('GET', '/api/recordings', { token: titleUser.accessToken });
        assert.equal(list.body.recordings.find((r) => r.roomId === rec.body.recording.roomId)?.title, s);
      } else {
        assertRefused(rec, 'title', s);
      }

      // join: a hostile invite is never accepted; a hostile name is stored verbatim or refused.
      const badInvite = await join({ inviteToken: s, name: 'Guest' });
      assert.ok([400, 403].includes(badInvite.status), `join with invite ${JSON.stringify(s)} gave ${badInvite.status} ${badInvite.text}`);
      assertJson(badInvite, badInvite.status);
      const guest = await join({ inviteToken: room.inviteToken, name: s });
      if (hasControl(s)) {
        assertRefused(guest, 'name', s);
      } else if (guest.status === 201) {
        assert.equal(guest.body.participant.name, s);
        const got = await server.request('GET', `/api/recordings/${room.roomId}`, { token: host.accessToken });
        assert.equal(got.body.recording.participants.find((p) => p.id === guest.body.participant.id)?.name, s);
      } else {
        assertRefused(guest, 'name', s);
      }

      // As a room id in the path: 404 (or 400), or the connection closed for a malformed URL (e.g. %00).
      const byId = await requestOrClosed('GET', `/api/recordings/${encodeURIComponent(s)}`, { token: host.accessToken });
      assert.ok(byId === null || [400, 404].includes(byId.status), `GET /api/recordings/<hostile> gave ${byId?.status}`);
      const joinById = await requestOrClosed('POST', `/api/rooms/${encodeURIComponent(s)}/join`, {
        body: { inviteToken: room.inviteToken, name: 'Guest' },
      });
      assert.ok(joinById === null || [400, 404].includes(joinById.status), `join <hostile> room gave ${joinById?.status}`);
      assertJson(await server.request('GET', '/healthz'), 200);
    });
  }

  test('afterwards the data created earlier is unchanged', async () => {
    const login = await post('/api/auth/login', { body: { email: canary.email, password: canary.password } });
    assertJson(login, 200);
    assert.deepEqual(login.body.user, canary.user);
    const me = await server.request('GET', '/api/me', { token: login.body.accessToken });
    assert.deepEqual(me.body, canaryMe);
    const rec = await server.request('GET', `/api/recordings/${canaryRecording.recording.roomId}`, { token: login.body.accessToken });
    assertJson(rec, 200);
    assert.deepEqual(rec.body, canaryRecording);
    const list = await server.request('GET', '/api/recordings', { token: login.body.accessToken });
    assert.deepEqual(list.body, canaryList);
    // And the host's room still takes guests.
    assertJson(await join({ inviteToken: room.inviteToken, name: 'Late Guest' }), 201);
  });
});

describe('routing', () => {
  test('unknown /api routes -> 404 not_found as JSON', async () => {
    for (const [method, path] of [
      ['GET', '/api/nope'],
      ['POST', '/api/nope'],
      ['GET', '/api/auth/whoami'],
      ['GET', `/api/recordings/${room.roomId}/nope`],
      ['GET', `/api/rooms/${room.roomId}`],
      ['DELETE', '/api/users'],
    ]) {
      const res = await server.request(method, path, { token: host.accessToken });
      assertError(res, 404, 'not_found');
    }
    assertError(await server.request('GET', '/api/does-not-exist'), 404, 'not_found');
  });

  test('a known path with the wrong method -> 405 method_not_allowed', async () => {
    for (const [method, path] of [
      ['GET', '/api/auth/login'],
      ['GET', '/api/auth/register'],
      ['PUT', '/api/auth/refresh'],
      ['DELETE', '/api/me'],
      ['POST', '/api/me'],
      ['PATCH', '/api/recordings'],
      ['PUT', `/api/recordings/${room.roomId}`],
      ['GET', `/api/recordings/${room.roomId}/invite`],
      ['GET', `/api/rooms/${room.roomId}/join`],
    ]) {
      const res = await server.request(method, path, { token: host.accessToken });
      assertError(res, 405, 'method_not_allowed');
    }
    // Still there after all that.
    assertJson(await server.request('GET', `/api/recordings/${room.roomId}`, { token: host.accessToken }), 200);
  });

  test('a random UUID that is no recording -> 404', async () => {
    assertError(await server.request('GET', `/api/recordings/${randomUUID()}`, { token: host.accessToken }), 404, 'not_found');
  });
});
