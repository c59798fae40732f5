// Registration, login, tokens, refresh rotation, logout and login rate limits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { registerUser, startServer, uniqueEmail } from './lib/server.mjs';
import { decodeJwt, forge, signJwt, accessClaims } from './lib/jwt.mjs';
import { assertError, assertInvalidField, assertJson, assertUser, stopAndCheck, withServer } from './lib/expect.mjs';

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await stopAndCheck(server);
});

const post = (path, body, options = {}) => server.request('POST', path, { body, ...options });

/** Checks the {user, accessToken, refreshToken, expiresIn} shape of register/login/refresh. */
function assertSession(res, status, expectedUser) {
  assertJson(res, status);
  assert.deepEqual(Object.keys(res.body).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'user']);
  assertUser(res.body.user);
  if (expectedUser) assert.deepEqual(res.body.user, expectedUser);
  assert.equal(typeof res.body.accessToken, 'string');
  assert.equal(typeof res.body.refreshToken, 'string');
  assert.ok(res.body.refreshToken.length >= 16, 'refresh token should be long enough to be unguessable');
  assert.notEqual(res.body.refreshToken, res.body.accessToken);
  assert.equal(res.body.expiresIn, 3600, 'expiresIn is JWT_EXPIRES_IN (default 1h) in seconds');

  const { header, payload } = decodeJwt(res.body.accessToken);
  assert.equal(header.alg, 'HS256');
  assert.equal(payload.iss, 'zencast');
  assert.ok(payload.aud === 'zencast' || (Array.isArray(payload.aud) && payload.aud.includes('zencast')), `aud: ${payload.aud}`);
  assert.equal(payload.sub, res.body.user.id);
  assert.equal(payload.typ, 'access');
  assert.ok(Number.isInteger(payload.iat) && Number.isInteger(payload.exp), 'iat/exp are integer seconds');
  assert.equal(payload.exp - payload.iat, res.body.expiresIn);
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 300, 'iat is now, in seconds');
  assert.equal(typeof payload.jti, 'string');
  assert.ok(payload.jti.length > 0);
}

describe('register', () => {
  test('201 with user, tokens and expiresIn; email trimmed and lower-cased', async () => {
    const tag = uniqueEmail('Mixed.Case');
    const password = 'correct horse battery staple';
    const res = await post('/api/auth/register', { email: `  ${tag.toUpperCase()}  `, password, name: 'Ada Lovelace', extra: 'ignored' });
    assertSession(res, 201);
    assert.equal(res.body.user.email, tag.toLowerCase());
    assert.equal(res.body.user.name, 'Ada Lovelace');
    assert.ok(!res.text.includes(password), 'the password is never echoed');
    assert.ok(!/password|hash/i.test(JSON.stringify(res.body.user)), 'no password or hash in the user object');
  });

  test('duplicate email, in any case and with spaces, is 409 email_taken and does not change the account', async () => {
    const first = await registerUser(server);
    for (const email of [first.email, first.email.toUpperCase(), ` ${first.email} `]) {
      const res = await post('/api/auth/register', { email, password: 'another-password', name: 'Impostor' });
      assertError(res, 409, 'email_taken');
    }
    const login = await post('/api/auth/login', { email: first.email, password: first.password });
    assertSession(login, 200, first.user);
    const impostor = await post('/api/auth/login', { email: first.email, password: 'another-password' });
    assertError(impostor, 401, 'invalid_credentials');
  });
});

describe('login', () => {
  test('200 with the same shape as register, email in any case', async () => {
    const u = await registerUser(server);
    const res = await post('/api/auth/login', { email: u.email.toUpperCase(), password: u.password });
    assertSession(res, 200, u.user);
    assert.notEqual(res.body.refreshToken, u.refreshToken);
  });

  test('wrong password and unknown email are both 401 invalid_credentials with the same message', async () => {
    const u = await registerUser(server);
    const wrongPassword = await post('/api/auth/login', { email: u.email, password: `${u.password}x` });
    assertError(wrongPassword, 401, 'invalid_credentials');
    const unknownEmail = await post('/api/auth/login', { email: uniqueEmail('nobody'), password: u.password });
    assertError(unknownEmail, 401, 'invalid_credentials');
    assert.equal(wrongPassword.body.error.message, unknownEmail.body.error.message);
  });
});

describe('GET /api/me', () => {
  let u;
  let participant; // a real guest of a real recording, for the participant-token case

  before(async () => {
    u = await registerUser(server, { name: 'Me Myself' });
    const rec = await server.request('POST', '/api/recordings', { token: u.accessToken, body: { title: 'for a guest' } });
    assert.equal(rec.status, 201, rec.text);
    const { roomId, inviteToken } = rec.body.recording;
    const join = await post(`/api/rooms/${roomId}/join`, { inviteToken, name: 'Guest' });
    assert.equal(join.status, 201, join.text);
    participant = { sub: join.body.participant.id, room: roomId, name: 'Guest', token: join.body.participantToken };
  });

  test('the access token from register gives 200 {user}', async () => {
    const res = await server.request('GET', '/api/me', { token: u.accessToken });
    assertJson(res, 200);
    assert.deepEqual(res.body, { user: u.user });
  });

  test('a token forged with the test secret and correct claims is accepted (control for the cases below)', async () => {
    const res = await server.request('GET', '/api/me', { token: forge.valid(u.user.id) });
    assertJson(res, 200);
    assert.deepEqual(res.body.user, u.user);
  });

  const cases = [
    ['no Authorization header', () => undefined, 401, 'unauthorized'],
    ['"Bearer" without a token', () => 'Bearer', 401, 'unauthorized'],
    ['Basic credentials', () => 'Basic dXNlcjpwYXNzd29yZA==', 401, 'unauthorized'],
    ['the token without "Bearer "', () => u.accessToken, 401, 'unauthorized'],
    ['garbage', () => 'Bearer not-a-jwt-at-all', 401, 'unauthorized'],
    ['three garbage segments', () => 'Bearer aaa.bbb.ccc', 401, 'unauthorized'],
    ['alg none', () => `Bearer ${forge.none(u.user.id)}`, 401, 'unauthorized'],
    ['alg none with the real signature stripped', () => `Bearer ${u.accessToken.split('.').slice(0, 2).join('.')}.`, 401, 'unauthorized'],
    ['HS512 with the right secret', () => `Bearer ${forge.hs512(u.user.id)}`, 401, 'unauthorized'],
    ['HS256 header over an HS512 signature', () => {
      const t512 = forge.hs512(u.user.id).split('.');
      const t256 = forge.valid(u.user.id).split('.');
      return `Bearer ${t256[0]}.${t512[1]}.${t512[2]}`;
    }, 401, 'unauthorized'],
    ['signed with the wrong key', () => `Bearer ${forge.wrongKey(u.user.id)}`, 401, 'unauthorized'],
    ['payload changed after signing', () => {
      const [h, , s] = u.accessToken.split('.');
      const payload = { ...decodeJwt(u.accessToken).payload, name: 'tampered' };
      return `Bearer ${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    }, 401, 'unauthorized'],
    ['expired', () => `Bearer ${forge.expired(u.user.id)}`, 401, 'token_expired'],
    ['wrong iss', () => `Bearer ${forge.valid(u.user.id, { iss: 'evil' })}`, 401, 'unauthorized'],
    ['wrong aud', () => `Bearer ${forge.valid(u.user.id, { aud: 'someone-else' })}`, 401, 'unauthorized'],
    ['typ refresh', () => `Bearer ${forge.valid(u.user.id, { typ: 'refresh' })}`, 401, 'unauthorized'],
    ['no typ', () => `Bearer ${forge.valid(u.user.id, { typ: undefined })}`, 401, 'unauthorized'],
    ['a forged participant token (typ participant, room claim)', () => `Bearer ${forge.participant(participant)}`, 403, 'forbidden'],
    ['a real participant token', () => `Bearer ${participant.token}`, 403, 'forbidden'],
    ['a correctly signed 5000-byte token', () => {
      let token = '';
      for (let pad = 3000; token.length < 5000; pad++) token = signJwt(accessClaims(u.user.id, { pad: 'x'.repeat(pad) }));
      assert.ok(token.length >= 5000 && token.length <= 5004, `token length ${token.length}`);
      return `Bearer ${token}`;
    }, 401, 'unauthorized'],
  ];

  for (const [name, authorization, status, code] of cases) {
    test(`${name} -> ${status} ${code}`, async () => {
      const res = await server.request('GET', '/api/me', { authorization: authorization() });
      assertError(res, status, code);
    });
  }
});

describe('refresh', () => {
  test('rotation gives new tokens; the old refresh token is then used, and replaying it revokes the family', async () => {
    const u = await registerUser(server);
    const otherSession = await post('/api/auth/login', { email: u.email, password: u.password });
    assert.equal(otherSession.status, 200, otherSession.text);

    const r1 = await post('/api/auth/refresh', { refreshToken: u.refreshToken });
    assertSession(r1, 200, u.user);
    assert.notEqual(r1.body.refreshToken, u.refreshToken, 'a new refresh token');
    assert.notEqual(r1.body.accessToken, u.accessToken, 'a new access token');
    const me = await server.request('GET', '/api/me', { token: r1.body.accessToken });
    assertJson(me, 200);
    assert.equal(me.body.user.id, u.user.id);

    // Replay of the used token: refused, and the rotated token dies with it.
    const replay = await post('/api/auth/refresh', { refreshToken: u.refreshToken });
    assertError(replay, 401, 'invalid_refresh_token');
    const rotated = await post('/api/auth/refresh', { refreshToken: r1.body.refreshToken });
    assertError(rotated, 401, 'invalid_refresh_token');

    // Only that family: a separate login of the same user is unaffected.
    const other = await post('/api/auth/refresh', { refreshToken: otherSession.body.refreshToken });
    assertSession(other, 200, u.user);
  });

  test('a chain of rotations works, each token once', async () => {
    const u = await registerUser(server);
    let token = u.refreshToken;
    const seen = new Set([token]);
    for (let i = 0; i < 3; i++) {
      const res = await post('/api/auth/refresh', { refreshToken: token });
      assertSession(res, 200, u.user);
      assert.ok(!seen.has(res.body.refreshToken), 'every rotation gives a fresh token');
      seen.add(res.body.refreshToken);
      token = res.body.refreshToken;
    }
  });

  test('unknown, garbage and access tokens are refused', async () => {
    const u = await registerUser(server);
    for (const refreshToken of ['nope', 'a'.repeat(64), `${u.refreshToken}x`, u.refreshToken.slice(0, -1)]) {
      const res = await post('/api/auth/refresh', { refreshToken });
      assertError(res, 401, 'invalid_refresh_token');
    }
    // An access token (a long JWT) is no refresh token: 401, or 400 if the server caps the field's length.
    const res = await post('/api/auth/refresh', { refreshToken: u.accessToken });
    if (res.status === 400) assertInvalidField(res, 'refreshToken');
    else assertError(res, 401, 'invalid_refresh_token');
    // None of that hurt the real token.
    assertSession(await post('/api/auth/refresh', { refreshToken: u.refreshToken }), 200, u.user);
  });

  test('missing or non-string refreshToken is 400 invalid_field', async () => {
    assertInvalidField(await post('/api/auth/refresh', {}), 'refreshToken');
    assertInvalidField(await post('/api/auth/refresh', { refreshToken: 42 }), 'refreshToken');
  });
});

describe('logout', () => {
  test('204 without a body; the refresh token (and its family) is dead afterwards', async () => {
    const u = await registerUser(server);
    const otherSession = await post('/api/auth/login', { email: u.email, password: u.password });
    assert.equal(otherSession.status, 200, otherSession.text);
    const rotated = await post('/api/auth/refresh', { refreshToken: u.refreshToken });
    assert.equal(rotated.status, 200, rotated.text);

    const res = await post('/api/auth/logout', { refreshToken: rotated.body.refreshToken });
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');

    assertError(await post('/api/auth/refresh', { refreshToken: rotated.body.refreshToken }), 401, 'invalid_refresh_token');
    assertError(await post('/api/auth/refresh', { refreshToken: u.refreshToken }), 401, 'invalid_refresh_token');
    // Another login of the same user keeps working.
    assertSession(await post('/api/auth/refresh', { refreshToken: otherSession.body.refreshToken }), 200, u.user);
  });

  test('an unknown token is also 204; a missing field is 400', async () => {
    const res = await post('/api/auth/logout', { refreshToken: 'never-issued-token' });
    assert.equal(res.status, 204, res.text);
    assertInvalidField(await post('/api/auth/logout', {}), 'refreshToken');
  });
});

describe('login rate limits', () => {
  test('per account: after 5 failures even the right password is 429 with Retry-After; other accounts are fine', async () => {
    const victim = await registerUser(server);
    const bystander = await registerUser(server);
    for (let i = 1; i <= 5; i++) {
      const res = await post('/api/auth/login', { email: victim.email, password: `wrong-password-${i}` });
      assertError(res, 401, 'invalid_credentials');
    }
    for (const email of [victim.email, victim.email.toUpperCase()]) {
      const res = await post('/api/auth/login', { email, password: victim.password });
      assertError(res, 429, 'rate_limited');
      const retryAfter = res.headers.get('retry-after');
      assert.match(retryAfter ?? '', /^\d+$/, `Retry-After should be whole seconds, got ${retryAfter}`);
      assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 15 * 60, `Retry-After ${retryAfter} within the 15m window`);
      assert.ok(!res.body.accessToken, 'no tokens with a 429');
    }
    assertSession(await post('/api/auth/login', { email: bystander.email, password: bystander.password }), 200, bystander.user);
  });

  test('per account: a successful login clears the failures', async () => {
    const u = await registerUser(server);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) {
        assertError(await post('/api/auth/login', { email: u.email, password: 'wrong-password' }), 401, 'invalid_credentials');
      }
      assertSession(await post('/api/auth/login', { email: u.email, password: u.password }), 200, u.user);
    }
  });

  test('per address: with LOGIN_MAX_FAILURES_PER_ADDRESS=3, the 4th login from 127.0.0.1 is 429', async () => {
    await withServer({ env: { LOGIN_MAX_FAILURES_PER_ADDRESS: 3 } }, async (limited) => {
      const u = await registerUser(limited);
      for (let i = 0; i < 3; i++) {
        // Different unknown accounts, so only the address limit can trigger.
        const res = await limited.request('POST', '/api/auth/login', { body: { email: uniqueEmail('ghost'), password: 'whatever-password' } });
        assertError(res, 401, 'invalid_credentials');
      }
      for (const body of [{ email: u.email, password: u.password }, { email: uniqueEmail('other'), password: 'whatever-password' }]) {
        const res = await limited.request('POST', '/api/auth/login', { body });
        assertError(res, 429, 'rate_limited');
        assert.match(res.headers.get('retry-after') ?? '', /^\d+$/, 'Retry-After header in seconds');
      }
    });
  });
});
