// Recordings: create, list, get, delete, invites, guest joins and who may see what.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { registerUser, startServer } from './lib/server.mjs';
import { decodeJwt } from './lib/jwt.mjs';
import { UUID_RE, assertEpochMs, assertError, assertJson, clockPast, stopAndCheck } from './lib/expect.mjs';

const PUBLIC_URL = 'https://studio.zencast.test:8443';

let server;
let alice;
let bob;

before(async () => {
  server = await startServer({ env: { PUBLIC_URL } });
  alice = await registerUser(server, { name: 'Alice Host' });
  bob = await registerUser(server, { name: 'Bob Other' });
});

after(async () => {
  await stopAndCheck(server);
});

const as = (user) => ({
  get: (path) => server.request('GET', path, { token: user.accessToken }),
  post: (path, body) => server.request('POST', path, { token: user.accessToken, body }),
  del: (path) => server.request('DELETE', path, { token: user.accessToken }),
});

async function create(user, title) {
  const res = await as(user).post('/api/recordings', { title });
  assertJson(res, 201);
  return res.body.recording;
}

const joinRoom = (roomId, inviteToken, name = 'Guest') =>
  server.request('POST', `/api/rooms/${roomId}/join`, { body: { inviteToken, name } });

function assertRecordingFields(rec, { owner, title }) {
  assert.match(rec.roomId, UUID_RE, 'roomId is a UUID');
  assert.equal(rec.title, title);
  assert.equal(rec.status, 'created');
  assertEpochMs(rec.createdAt, 'createdAt');
  assertEpochMs(rec.updatedAt, 'updatedAt');
  assert.equal(rec.hostUserId, owner.user.id);
  assert.equal(typeof rec.inviteToken, 'string');
  assert.ok(rec.inviteToken.length >= 16, 'invite tokens should be unguessable');
  assert.equal(rec.inviteUrl, `${PUBLIC_URL}/join/${rec.roomId}?invite=${rec.inviteToken}`);
}

describe('create and read', () => {
  test('POST /api/recordings -> 201; the host is the first participant', async () => {
    const rec = await create(alice, 'Episode 1: Hello');
    assertRecordingFields(rec, { owner: alice, title: 'Episode 1: Hello' });
    assert.ok(Array.isArray(rec.participants));
    assert.equal(rec.participants.length, 1);
    const [hostParticipant] = rec.participants;
    assert.deepEqual(Object.keys(hostParticipant).sort(), ['id', 'joinedAt', 'name', 'role']);
    assert.equal(hostParticipant.role, 'host');
    assert.equal(hostParticipant.name, alice.user.name);
    assert.equal(typeof hostParticipant.id, 'string');
    assertEpochMs(hostParticipant.joinedAt, 'joinedAt');
  });

  test('every recording gets its own room id and invite', async () => {
    const a = await create(alice, 'same title');
    const b = await create(alice, 'same title');
    assert.notEqual(a.roomId, b.roomId);
    assert.notEqual(a.inviteToken, b.inviteToken);
  });

  test('GET /api/recordings/{id} returns what POST returned', async () => {
    const rec = await create(alice, 'Fetch me');
    const res = await as(alice).get(`/api/recordings/${rec.roomId}`);
    assertJson(res, 200);
    assert.deepEqual(res.body, { recording: rec });
  });

  test('no token -> 401 on every recordings route', async () => {
    const rec = await create(alice, 'auth needed');
    for (const [method, path] of [
      ['GET', '/api/recordings'],
      ['POST', '/api/recordings'],
      ['GET', `/api/recordings/${rec.roomId}`],
      ['DELETE', `/api/recordings/${rec.roomId}`],
      ['POST', `/api/recordings/${rec.roomId}/invite`],
    ]) {
      const res = await server.request(method, path, method === 'POST' ? { body: { title: 'x' } } : {});
      assertError(res, 401, 'unauthorized');
    }
    assertJson(await as(alice).get(`/api/recordings/${rec.roomId}`), 200);
  });

  test('non-UUID and unknown ids -> 404', async () => {
    for (const id of ['abc', '123', 'not-a-uuid-at-all', `${randomUUID()}x`, randomUUID(), '00000000-0000-0000-0000-000000000000']) {
      assertError(await as(alice).get(`/api/recordings/${id}`), 404, 'not_found');
      assertError(await as(alice).del(`/api/recordings/${id}`), 404, 'not_found');
      assertError(await as(alice).post(`/api/recordings/${id}/invite`), 404, 'not_found');
    }
  });
});

describe('list', () => {
  test('only the caller\'s recordings, newest first, with participantCount, recorded time and latest render, and no participants', async () => {
    const carol = await registerUser(server, { name: 'Carol Lister' });
    const titles = ['first', 'second', 'third'];
    const created = [];
    for (const title of titles) {
      const rec = await create(carol, title);
      created.push(rec);
      await clockPast(rec.createdAt); // distinct createdAt, so "newest first" is well defined
    }
    const bobs = await create(bob, 'not carol\'s');

    const res = await as(carol).get('/api/recordings');
    assertJson(res, 200);
    assert.deepEqual(Object.keys(res.body), ['recordings']);
    const list = res.body.recordings;
    assert.deepEqual(list.map((r) => r.roomId), created.map((r) => r.roomId).reverse());
    assert.ok(!list.some((r) => r.roomId === bobs.roomId), 'another user\'s recording is not listed');
    for (const item of list) {
      const original = created.find((r) => r.roomId === item.roomId);
      assert.equal(item.participantCount, 1);
      assert.equal('participants' in item, false, 'list items have no participants list');
      const { participants, takes, render, ...fields } = original; // only GET of one recording has these
      assert.deepEqual(takes, []);
      assert.equal(render, null);
      // The dashboard's summary: nothing recorded or rendered yet.
      const { participantCount, recordedMs, recordingSince, render: latestRender, ...rest } = item;
      assert.deepEqual([recordedMs, recordingSince, latestRender], [0, null, null]);
      assert.deepEqual({ ...rest, participantCount }, { ...fields, participantCount });
      assert.equal(participants.length, 1);
    }

    // A guest raises the count.
    const join = await joinRoom(created[0].roomId, created[0].inviteToken);
    assertJson(join, 201);
    const again = await as(carol).get('/api/recordings');
    assert.equal(again.body.recordings.find((r) => r.roomId === created[0].roomId).participantCount, 2);
  });

  test('a user without recordings gets an empty list', async () => {
    const dave = await registerUser(server);
    const res = await as(dave).get('/api/recordings');
    assertJson(res, 200);
    assert.deepEqual(res.body, { recordings: [] });
  });
});

describe('ownership', () => {
  test('another user\'s recording is 404 on GET, DELETE and invite, and survives for its owner', async () => {
    const rec = await create(alice, 'Alice only');
    assertError(await as(bob).get(`/api/recordings/${rec.roomId}`), 404, 'not_found');
    assertError(await as(bob).del(`/api/recordings/${rec.roomId}`), 404, 'not_found');
    assertError(await as(bob).post(`/api/recordings/${rec.roomId}/invite`), 404, 'not_found');

    const res = await as(alice).get(`/api/recordings/${rec.roomId}`);
    assertJson(res, 200);
    assert.deepEqual(res.body.recording, rec, 'unchanged: same invite, same participants');
    assertJson(await joinRoom(rec.roomId, rec.inviteToken), 201);
  });
});

describe('guests', () => {
  test('joining with the invite -> 201 and a participant token for that room', async () => {
    const rec = await create(alice, 'Guest show');
    const res = await joinRoom(rec.roomId, rec.inviteToken, 'Gus Guest');
    assertJson(res, 201);
    assert.deepEqual(Object.keys(res.body).sort(), ['expiresIn', 'participant', 'participantToken', 'roomId']);
    assert.equal(res.body.roomId, rec.roomId);
    const { participant } = res.body;
    assert.deepEqual(Object.keys(participant).sort(), ['id', 'joinedAt', 'name', 'role']);
    assert.equal(participant.name, 'Gus Guest');
    assert.equal(participant.role, 'guest');
    assertEpochMs(participant.joinedAt, 'joinedAt');
    assert.notEqual(participant.id, rec.participants[0].id);
    assert.equal(res.body.expiresIn, 12 * 3600, 'PARTICIPANT_TOKEN_EXPIRES_IN defaults to 12h');

    const { header, payload } = decodeJwt(res.body.participantToken);
    assert.equal(header.alg, 'HS256');
    assert.equal(payload.typ, 'participant');
    assert.equal(payload.room, rec.roomId);
    assert.equal(payload.sub, participant.id);
    assert.equal(payload.name, 'Gus Guest');
    assert.equal(payload.iss, 'zencast');
    assert.equal(payload.exp - payload.iat, res.body.expiresIn);

    const got = await as(alice).get(`/api/recordings/${rec.roomId}`);
    assertJson(got, 200);
    assert.equal(got.body.recording.participants.length, 2);
    assert.deepEqual(got.body.recording.participants[0], rec.participants[0], 'the host stays first');
    assert.deepEqual(got.body.recording.participants[1], participant);
  });

  test('a wrong invite -> 403 invalid_invite; an unknown room -> 404', async () => {
    const rec = await create(alice, 'Invite only');
    const other = await create(alice, 'Other room');
    assertError(await joinRoom(rec.roomId, 'wrong-invite-token'), 403, 'invalid_invite');
    assertError(await joinRoom(rec.roomId, other.inviteToken), 403, 'invalid_invite');
    assertError(await joinRoom(rec.roomId, `${rec.inviteToken}x`), 403, 'invalid_invite');
    assertError(await joinRoom(rec.roomId, rec.inviteToken.slice(0, -1)), 403, 'invalid_invite');
    assertError(await joinRoom(randomUUID(), rec.inviteToken), 404, 'not_found');
    assertError(await joinRoom('not-a-uuid', rec.inviteToken), 404, 'not_found');
    const got = await as(alice).get(`/api/recordings/${rec.roomId}`);
    assert.equal(got.body.recording.participants.length, 1, 'failed joins add nobody');
  });

  test('rotating the invite: the old one is 403, the new one works', async () => {
    const rec = await create(alice, 'Rotate me');
    const res = await as(alice).post(`/api/recordings/${rec.roomId}/invite`);
    assertJson(res, 200);
    assert.deepEqual(Object.keys(res.body).sort(), ['inviteToken', 'inviteUrl']);
    const { inviteToken, inviteUrl } = res.body;
    assert.notEqual(inviteToken, rec.inviteToken);
    assert.equal(inviteUrl, `${PUBLIC_URL}/join/${rec.roomId}?invite=${inviteToken}`);

    assertError(await joinRoom(rec.roomId, rec.inviteToken), 403, 'invalid_invite');
    assertJson(await joinRoom(rec.roomId, inviteToken), 201);

    const got = await as(alice).get(`/api/recordings/${rec.roomId}`);
    assert.equal(got.body.recording.inviteToken, inviteToken);
    assert.equal(got.body.recording.inviteUrl, inviteUrl);
  });

  test('a participant token is 403 forbidden on host routes', async () => {
    const rec = await create(alice, 'No guests at the desk');
    const join = await joinRoom(rec.roomId, rec.inviteToken);
    assertJson(join, 201);
    const guest = { accessToken: join.body.participantToken };
    assertError(await as(guest).get('/api/recordings'), 403, 'forbidden');
    assertError(await as(guest).post('/api/recordings', { title: 'guest made this' }), 403, 'forbidden');
    assertError(await as(guest).get(`/api/recordings/${rec.roomId}`), 403, 'forbidden');
    assertError(await as(guest).del(`/api/recordings/${rec.roomId}`), 403, 'forbidden');
    assertError(await as(guest).post(`/api/recordings/${rec.roomId}/invite`), 403, 'forbidden');
    assertError(await as(guest).get('/api/me'), 403, 'forbidden');
    const got = await as(alice).get(`/api/recordings/${rec.roomId}`);
    assert.equal(got.body.recording.inviteToken, rec.inviteToken, 'the guest did not rotate the invite');
  });
});

describe('delete', () => {
  test('DELETE -> 204; then GET, DELETE and joins are 404 and it is gone from the list', async () => {
    const keep = await create(alice, 'Keep me');
    const rec = await create(alice, 'Delete me');
    const join = await joinRoom(rec.roomId, rec.inviteToken);
    assertJson(join, 201);

    const res = await as(alice).del(`/api/recordings/${rec.roomId}`);
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');

    assertError(await as(alice).get(`/api/recordings/${rec.roomId}`), 404, 'not_found');
    assertError(await as(alice).del(`/api/recordings/${rec.roomId}`), 404, 'not_found');
    assertError(await as(alice).post(`/api/recordings/${rec.roomId}/invite`), 404, 'not_found');
    assertError(await joinRoom(rec.roomId, rec.inviteToken), 404, 'not_found');
    const list = await as(alice).get('/api/recordings');
    assert.ok(!list.body.recordings.some((r) => r.roomId === rec.roomId), 'deleted recording not listed');
    assert.ok(list.body.recordings.some((r) => r.roomId === keep.roomId), 'other recordings stay');
    assert.deepEqual((await as(alice).get(`/api/recordings/${keep.roomId}`)).body.recording, keep);
  });
});
