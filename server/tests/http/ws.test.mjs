// WebSocket signalling (/ws, subprotocol zencast.v1): join, presence, relay, clock sync, host
// controls, chat, upload status, reconnects, heartbeats, bad input, limits and two server
// instances sharing Redis. The contract is docs/protocol.md.
//
// Absence ("B never gets X") is checked without sleeping: after the action, a message that the
// server must deliver *after* X would have been (a relay from the same sender, or a ping answered
// on B's own connection once the sender has its answer) is awaited, then B's log is inspected.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual, promisify } from 'node:util';

import { UUID_RE, assertEpochMs, stopAndCheck } from './lib/expect.mjs';
import { forge, participantClaims, signJwt } from './lib/jwt.mjs';
import { createTestDatabase, makeTempDir, registerUser, uniqueEmail, waitFor } from './lib/server.mjs';
import { closeAllClients, connect, joinAs, startWsServer } from './lib/ws.mjs';

const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// Fixtures

/** A user with a recording: { token, userId, roomId, inviteToken, hostId, hostName }. */
async function createRoom(server, { name = 'Ada Host', title = 'WebSocket test' } = {}) {
  const user = await registerUser(server, { email: uniqueEmail('ws-host'), name });
  const res = await server.request('POST', '/api/recordings', { token: user.accessToken, body: { title } });
  assert.equal(res.status, 201, `create recording: ${res.status} ${res.text}`);
  const rec = res.body.recording;
  const host = rec.participants.find((p) => p.role === 'host');
  assert.ok(host, `the new recording lists its host: ${res.text}`);
  return {
    token: user.accessToken,
    userId: user.user.id,
    roomId: rec.roomId,
    inviteToken: rec.inviteToken,
    hostId: host.id,
    hostName: host.name,
  };
}

/** A guest of room through the REST join: { id, name, token }. */
async function addGuest(server, room, name = 'Grace Guest') {
  const res = await server.request('POST', `/api/rooms/${room.roomId}/join`, {
    body: { inviteToken: room.inviteToken, name },
  });
  assert.equal(res.status, 201, `guest join: ${res.status} ${res.text}`);
  return { id: res.body.participant.id, name, token: res.body.participantToken };
}

/** Joins and returns a member { ws, id, name, joined }. */
async function join(server, { token, roomId, ...options }) {
  const { ws, joined } = await joinAs(server, { token, roomId, ...options });
  return { ws, id: joined.participantId, name: joined.name, joined };
}

const joinHost = (server, room, options = {}) => join(server, { token: room.token, roomId: room.roomId, ...options });
const joinGuest = (server, room, guest, options = {}) => join(server, { token: guest.token, roomId: room.roomId, ...options });

// ---------------------------------------------------------------------------------------------
// Assertions

function assertNoDuplicates(participants, what = 'joined.participants') {
  const ids = participants.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, `${what} lists a participant twice: ${JSON.stringify(participants)}`);
}

function assertParticipant(p) {
  assert.equal(typeof p, 'object');
  assert.equal(typeof p.id, 'string', `participant.id: ${JSON.stringify(p)}`);
  assert.ok(p.id.length > 0);
  assert.equal(typeof p.name, 'string', `participant.name: ${JSON.stringify(p)}`);
  assert.ok(['host', 'guest'].includes(p.role), `participant.role: ${JSON.stringify(p)}`);
  assertEpochMs(p.joinedAt, 'participant.joinedAt');
}

function assertServerTime(value, what = 'serverTime') {
  assert.ok(Number.isInteger(value), `${what} should be an integer, got ${JSON.stringify(value)}`);
  assert.ok(Math.abs(value - Date.now()) < 5_000, `${what} should be within 5 s of the test's clock: ${value} vs ${Date.now()}`);
}

function assertIceServers(iceServers) {
  assert.ok(Array.isArray(iceServers), `iceServers is an array: ${JSON.stringify(iceServers)}`);
  for (const server of iceServers) {
    assert.ok(Array.isArray(server.urls) && server.urls.length > 0, `iceServers[].urls is a non-empty array: ${JSON.stringify(server)}`);
    for (const url of server.urls) assert.match(url, /^(stun|turns?):/, `ICE server URL ${url}`);
  }
}

/**
 * The answer to a join, for a joiner with this role/name: every field of the spec, with the
 * right types.
 */
function assertJoined(joined, { roomId, participantId, role, name }) {
  assert.equal(joined.type, 'joined');
  assert.equal(joined.roomId, roomId, 'joined.roomId');
  assert.equal(typeof joined.participantId, 'string');
  if (participantId !== undefined) assert.equal(joined.participantId, participantId, 'joined.participantId');
  assert.equal(joined.role, role, 'joined.role');
  assert.equal(joined.name, name, 'joined.name');
  assert.ok(Array.isArray(joined.participants), 'joined.participants is an array');
  joined.participants.forEach(assertParticipant);
  assertNoDuplicates(joined.participants);
  const me = joined.participants.find((p) => p.id === joined.participantId);
  assert.ok(me, `the joiner is in joined.participants: ${JSON.stringify(joined.participants)}`);
  assert.equal(me.role, role);
  assert.equal(me.name, name);
  assert.equal(typeof joined.recording, 'object');
  assert.ok(['idle', 'recording'].includes(joined.recording.state), `recording.state: ${JSON.stringify(joined.recording)}`);
  for (const key of ['takeId', 'startAt', 'stopAt']) assert.ok(key in joined.recording, `joined.recording.${key} is present`);
  assertIceServers(joined.iceServers);
  assert.ok(Array.isArray(joined.chat), 'joined.chat is an array');
  assert.ok(joined.uploads && typeof joined.uploads === 'object' && !Array.isArray(joined.uploads), 'joined.uploads is an object');
  if (role === 'guest') assert.deepEqual(joined.uploads, {}, 'a guest gets no upload status');
  assertServerTime(joined.serverTime, 'joined.serverTime');
}

const IDLE = { state: 'idle', takeId: null, startAt: null, stopAt: null };

/** An error message {type:"error", code, message}. code: one code or a list of allowed ones. */
function assertErrorMessage(msg, code) {
  assert.equal(msg.type, 'error', `expected an error, got ${JSON.stringify(msg)}`);
  const codes = Array.isArray(code) ? code : [code];
  assert.ok(codes.includes(msg.code), `expected error ${codes.join(' or ')}, got ${JSON.stringify(msg)}`);
  assert.equal(typeof msg.message, 'string', `error.message is a string: ${JSON.stringify(msg)}`);
  assert.ok(msg.message.length > 0, 'error.message is not empty');
}

/** The next error on ws, which must have this code. */
async function expectError(ws, code, options) {
  const msg = await ws.next('error', options);
  assertErrorMessage(msg, code);
  return msg;
}

/** An error with this code, then the close with this code. */
async function expectErrorAndClose(ws, code, closeCode, { timeoutMs = 5_000 } = {}) {
  const msg = await expectError(ws, code, { timeoutMs });
  const closed = await ws.waitClosed({ timeoutMs });
  assert.equal(closed.code, closeCode, `close code after error ${msg.code}: ${JSON.stringify(closed)}`);
  return msg;
}

/**
 * A join that must be refused. allowed: [[errorCode, closeCode], ...] pairs, any of which passes.
 */
async function expectJoinRefused(server, joinOptions, allowed) {
  const err = await joinAs(server, joinOptions).then(
    ({ ws }) => {
      ws.terminate();
      throw new Error(`join with ${JSON.stringify(joinOptions).slice(0, 300)} was accepted; expected ${JSON.stringify(allowed)}`);
    },
    (e) => e,
  );
  if (!err.wsError) throw err;
  assertErrorMessage(err.wsError, allowed.map(([code]) => code));
  assert.ok(err.close, `the connection should be closed after ${err.wsError.code}`);
  assert.ok(
    allowed.some(([code, closeCode]) => err.wsError.code === code && err.close.code === closeCode),
    `expected one of ${JSON.stringify(allowed)}, got error ${err.wsError.code} and close ${err.close.code}`,
  );
  return err;
}

const UNAUTHORIZED = [['unauthorized', 4401]];
const EXPIRED = [['token_expired', 4401]];
const FORBIDDEN_OR_NOT_FOUND = [
  ['forbidden', 4403],
  ['not_found', 4404],
];

let nonceCounter = 0;
const nonce = (tag = 'n') => `${tag}-${++nonceCounter}-${randomUUID()}`;

/** from relays a `type` message to `to`; resolves what `to` received (checked: from, payload). */
async function relayOk(from, to, { type = 'offer', payload, timeoutMs = 5_000 } = {}) {
  const body = payload === undefined ? { nonce: nonce('relay'), sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' } : payload;
  from.ws.send({ type, to: to.id, payload: body });
  const got = await to.ws.next((m) => m.type === type && m.from === from.id && isDeepStrictEqual(m.payload, body), { timeoutMs }).catch((err) => {
    err.message = `${type} from ${from.id} to ${to.id} not delivered: ${err.message}\n--- the sender's last messages: ${JSON.stringify(from.ws.received.slice(-5)).slice(0, 1500)}`;
    throw err;
  });
  assert.deepEqual(Object.keys(got).sort(), ['from', 'payload', 'type'], `relayed ${type}: ${JSON.stringify(got)}`);
  return got;
}

/**
 * A barrier between two members of one room: anything the server sent `to` because of what
 * `from` did before has arrived once this resolves.
 */
const barrier = (from, to) => relayOk(from, to, { type: 'candidate', payload: { barrier: nonce('barrier') } });

/** A ping/pong on ws: whatever the server queued for ws before answering has arrived. */
async function pingPong(ws) {
  const clientTime = Date.now() + Math.random();
  ws.send({ type: 'ping', clientTime });
  return ws.next((m) => m.type === 'pong' && m.clientTime === clientTime);
}

/**
 * The room as a fresh joiner sees it: exactly `members` (ids) are listed besides the fresh joiner,
 * nobody twice. The observer leaves again, and every member has seen it go before this returns,
 * so the next check is not confused by it.
 */
async function assertParticipantsSeen(server, room, members, { observerServer = server } = {}) {
  const observer = await addGuest(server, room, 'Observer');
  const obs = await joinGuest(observerServer, room, observer);
  assertNoDuplicates(obs.joined.participants);
  const seen = obs.joined.participants.map((p) => p.id).filter((id) => id !== observer.id);
  assert.deepEqual(seen.sort(), members.map((m) => m.id).sort(), 'participants seen by a fresh join');
  await obs.ws.close();
  for (const m of members) {
    await m.ws.next((msg) => msg.type === 'peer-left' && msg.participantId === observer.id);
  }
  return obs.joined;
}

/** The room state of `members` is as before: same participants, relay between them both ways. */
async function assertRoomIntact(server, room, members) {
  await assertParticipantsSeen(server, room, members);
  for (const m of members) assert.ok(m.ws.isOpen(), `member ${m.id} is still connected`);
  if (members.length >= 2) {
    await relayOk(members[0], members[1], { type: 'offer' });
    await relayOk(members[1], members[0], { type: 'answer' });
  }
}

function lifecycle(envOrFn) {
  const state = { server: null };
  before(async () => {
    state.server = await startWsServer({ env: typeof envOrFn === 'function' ? envOrFn() : envOrFn });
  });
  after(async () => {
    await closeAllClients();
    await stopAndCheck(state.server);
  });
  return state;
}

// ---------------------------------------------------------------------------------------------

describe('join', () => {
  const TURN_SECRET = 'turn-static-auth-secret-for-the-tests';
  const STUN = ['stun:stun.example.net:3478', 'stun:stun2.example.net:19302'];
  const TURN = ['turn:turn.example.net:3478?transport=udp', 'turns:turn.example.net:5349?transport=tcp'];
  const s = lifecycle({
    STUN_URLS: STUN.join(','),
    TURN_URLS: TURN.join(','),
    TURN_SECRET,
    TURN_TTL: '1h',
  });
  let room;
  before(async () => {
    room = await createRoom(s.server);
  });

  function assertIceConfig(iceServers, participantId) {
    assertIceServers(iceServers);
    const stun = iceServers.filter((e) => e.urls.every((u) => u.startsWith('stun:')));
    const turn = iceServers.filter((e) => e.urls.some((u) => /^turns?:/.test(u)));
    assert.deepEqual(stun.flatMap((e) => e.urls).sort(), [...STUN].sort(), `STUN servers: ${JSON.stringify(iceServers)}`);
    assert.deepEqual(turn.flatMap((e) => e.urls).sort(), [...TURN].sort(), `TURN servers: ${JSON.stringify(iceServers)}`);
    for (const e of stun) assert.equal(e.username, undefined, 'no credentials on STUN entries');
    for (const e of turn) {
      assert.equal(typeof e.username, 'string', `TURN username: ${JSON.stringify(e)}`);
      const match = /^(\d+):(.+)$/.exec(e.username);
      assert.ok(match, `TURN username is "<expiry>:<participantId>": ${e.username}`);
      assert.equal(match[2], participantId, 'TURN username names the participant');
      const expiry = Number(match[1]);
      const expected = Date.now() / 1000 + 3600;
      assert.ok(Math.abs(expiry - expected) < 120, `TURN expiry is now + TURN_TTL in seconds: ${expiry} vs ${expected}`);
      const credential = createHmac('sha1', TURN_SECRET).update(e.username).digest('base64');
      assert.equal(e.credential, credential, 'TURN credential = base64(HMAC-SHA1(TURN_SECRET, username))');
    }
  }

  test('a host joins with the access token in the join message', async () => {
    const host = await joinHost(s.server, room);
    assertJoined(host.joined, { roomId: room.roomId, participantId: room.hostId, role: 'host', name: room.hostName });
    assert.deepEqual(
      host.joined.participants.map((p) => [p.id, p.role]),
      [[room.hostId, 'host']],
      'only the host is connected',
    );
    assert.deepEqual(host.joined.recording, IDLE);
    assert.deepEqual(host.joined.chat, []);
    assert.deepEqual(host.joined.uploads, {});
    assertIceConfig(host.joined.iceServers, room.hostId);
    assert.equal(host.ws.ws.protocol, 'zencast.v1', 'the server selects the subprotocol');

    const guest = await addGuest(s.server, room, 'Grace Guest');
    const g = await joinGuest(s.server, room, guest);
    assertJoined(g.joined, { roomId: room.roomId, participantId: guest.id, role: 'guest', name: 'Grace Guest' });
    assert.deepEqual(
      g.joined.participants.map((p) => [p.id, p.role, p.name]).sort(),
      [
        [room.hostId, 'host', room.hostName],
        [guest.id, 'guest', 'Grace Guest'],
      ].sort(),
    );
    assert.deepEqual(g.joined.recording, IDLE);
    assert.deepEqual(g.joined.chat, []);
    assertIceConfig(g.joined.iceServers, guest.id);
    await g.ws.close();
    await host.ws.next((m) => m.type === 'peer-left' && m.participantId === guest.id);
    await host.ws.close();
  });

  test('a guest may leave roomId out: the token names the room', async () => {
    const guest = await addGuest(s.server, room, 'Roomless');
    const g = await join(s.server, { token: guest.token });
    assertJoined(g.joined, { roomId: room.roomId, participantId: guest.id, role: 'guest', name: 'Roomless' });
    await g.ws.close();
  });

  test('the token may be given in the query string instead', async () => {
    const host = await joinHost(s.server, room, { tokenInQuery: true });
    assertJoined(host.joined, { roomId: room.roomId, participantId: room.hostId, role: 'host', name: room.hostName });
    const guest = await addGuest(s.server, room, 'Query Guest');
    const g = await joinGuest(s.server, room, guest, { tokenInQuery: true });
    assertJoined(g.joined, { roomId: room.roomId, participantId: guest.id, role: 'guest', name: 'Query Guest' });
    assert.ok(g.joined.participants.some((p) => p.id === room.hostId));
    // Guest, query token only, no roomId at all.
    await g.ws.close();
    const ws = await connect(s.server, { token: guest.token });
    ws.send({ type: 'join' });
    const joined = await ws.next('joined');
    assertJoined(joined, { roomId: room.roomId, participantId: guest.id, role: 'guest', name: 'Query Guest' });
    await ws.close();
    await host.ws.close();
  });

  test('a token in the join message wins over the query string', async () => {
    const ws = await connect(s.server, { token: 'not-a-jwt' });
    ws.send({ type: 'join', roomId: room.roomId, token: room.token });
    const joined = await ws.next((m) => m.type === 'joined' || m.type === 'error');
    assertJoined(joined, { roomId: room.roomId, participantId: room.hostId, role: 'host', name: room.hostName });
    await ws.close();

    const guest = await addGuest(s.server, room, 'Overridden');
    const ws2 = await connect(s.server, { token: guest.token });
    ws2.send({ type: 'join', roomId: room.roomId, token: room.token });
    const joined2 = await ws2.next((m) => m.type === 'joined' || m.type === 'error');
    assertJoined(joined2, { roomId: room.roomId, participantId: room.hostId, role: 'host', name: room.hostName });
    await ws2.close();
  });
});

describe('STUN_URLS none', () => {
  const s = lifecycle({ STUN_URLS: 'none' });

  test('STUN_URLS=none gives no STUN server', async () => {
    const room = await createRoom(s.server);
    const host = await joinHost(s.server, room);
    assert.deepEqual(host.joined.iceServers, [], `iceServers: ${JSON.stringify(host.joined.iceServers)}`);
    await host.ws.close();
  });
});

describe('presence, relay and clock sync', () => {
  const s = lifecycle({});
  let room;
  before(async () => {
    room = await createRoom(s.server);
  });

  test('the default ICE configuration is Google STUN without TURN', async () => {
    const host = await joinHost(s.server, room);
    assert.deepEqual(host.joined.iceServers.flatMap((e) => e.urls), ['stun:stun.l.google.com:19302']);
    assert.ok(host.joined.iceServers.every((e) => e.username === undefined && e.credential === undefined));
    await host.ws.close();
  });

  test('peer-joined and peer-left reach the others; nobody is listed twice', async () => {
    const host = await joinHost(s.server, room);
    assert.deepEqual(host.joined.participants.map((p) => p.id), [room.hostId]);

    const grace = await addGuest(s.server, room, 'Grace');
    const g = await joinGuest(s.server, room, grace);
    const pj = await host.ws.next((m) => m.type === 'peer-joined' && m.participant?.id === grace.id);
    assert.deepEqual(Object.keys(pj).sort(), ['participant', 'type']);
    assertParticipant(pj.participant);
    assert.equal(pj.participant.name, 'Grace');
    assert.equal(pj.participant.role, 'guest');
    assert.deepEqual(
      g.joined.participants.find((p) => p.id === grace.id),
      pj.participant,
      'peer-joined carries the same participant as joined.participants',
    );

    const linus = await addGuest(s.server, room, 'Linus');
    const l = await joinGuest(s.server, room, linus);
    assert.deepEqual(l.joined.participants.map((p) => p.id).sort(), [room.hostId, grace.id, linus.id].sort());
    for (const m of [host, g]) await m.ws.next((msg) => msg.type === 'peer-joined' && msg.participant?.id === linus.id);
    // The joiner gets no peer-joined about itself.
    await barrier(host, l);
    assert.equal(l.ws.all((m) => m.type === 'peer-joined' && m.participant?.id === linus.id).length, 0, 'no peer-joined for oneself');

    await g.ws.close();
    for (const m of [host, l]) {
      const left = await m.ws.next((msg) => msg.type === 'peer-left' && msg.participantId === grace.id);
      assert.deepEqual(Object.keys(left).sort(), ['participantId', 'type']);
    }
    await assertParticipantsSeen(s.server, room, [host, l]);

    // Coming and going repeatedly never duplicates anyone.
    for (let i = 0; i < 3; i++) {
      const again = await joinGuest(s.server, room, grace);
      assertNoDuplicates(again.joined.participants);
      assert.deepEqual(again.joined.participants.map((p) => p.id).sort(), [room.hostId, grace.id, linus.id].sort());
      await host.ws.next((msg) => msg.type === 'peer-joined' && msg.participant?.id === grace.id);
      await again.ws.close();
      await host.ws.next((msg) => msg.type === 'peer-left' && msg.participantId === grace.id);
    }
    await assertParticipantsSeen(s.server, room, [host, l]);
    await l.ws.close();
    await host.ws.close();
  });

  test('offer, answer and candidate are relayed with opaque payloads and a server-set from', async () => {
    const host = await joinHost(s.server, room);
    const guest = await addGuest(s.server, room, 'Relay Guest');
    const g = await joinGuest(s.server, room, guest);

    const offer = {
      type: 'offer',
      sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\na=group:BUNDLE 0 1\r\n',
      nested: { list: [1, 2.5, -3e-7, { deep: [null, true, false] }], empty: {}, emptyList: [] },
      unicode: 'Grüße 👋 日本語 \u00e9\u0301 "quotes" \\ back\\slash \t tab \u2028',
      big: 9007199254740991,
    };
    const got = await relayOk(host, g, { type: 'offer', payload: offer });
    assert.equal(got.from, room.hostId);
    await relayOk(g, host, { type: 'answer', payload: { type: 'answer', sdp: 'v=0\r\nanswer 🎙️\r\n' } });
    await relayOk(host, g, {
      type: 'candidate',
      payload: { candidate: 'candidate:1 1 udp 2122260223 192.168.1.2 54321 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    });
    await relayOk(g, host, { type: 'candidate', payload: { candidate: 'candidate:2 1 tcp 1 10.0.0.1 9 typ host tcptype active', sdpMid: '1', sdpMLineIndex: 1 } });
    // Payloads that are not objects are carried as they are too.
    await relayOk(g, host, { type: 'candidate', payload: 'a plain string ✓' });
    await relayOk(host, g, { type: 'candidate', payload: [1, 'two', { three: 3 }] });
    await relayOk(host, g, { type: 'candidate', payload: 42 });
    await relayOk(g, host, { type: 'candidate', payload: null }); // end-of-candidates

    // A `from` in the message is ignored: the server sets it.
    g.ws.send({ type: 'offer', to: room.hostId, from: room.hostId, payload: { spoof: 1 } });
    const spoofed = await host.ws.next((m) => m.type === 'offer' && isDeepStrictEqual(m.payload, { spoof: 1 }));
    assert.equal(spoofed.from, guest.id, 'from is the sender, whatever the message said');

    // Nothing goes to anyone but the addressee, and not back to the sender.
    const third = await joinGuest(s.server, room, await addGuest(s.server, room, 'Bystander'));
    const marker = { privateTo: guest.id, n: nonce() };
    host.ws.send({ type: 'offer', to: guest.id, payload: marker });
    await g.ws.next((m) => m.type === 'offer' && isDeepStrictEqual(m.payload, marker));
    await barrier(host, third);
    await barrier(g, host);
    assert.equal(third.ws.all((m) => m.type === 'offer').length, 0, 'a bystander gets no relayed offer');
    assert.equal(host.ws.all((m) => m.type === 'offer' && isDeepStrictEqual(m.payload, marker)).length, 0, 'no echo to the sender');

    await third.ws.close();
    await g.ws.close();
    await host.ws.close();
  });

  test('ping is answered with pong: integer server times, clientTime echoed', async () => {
    const host = await joinHost(s.server, room);
    for (const clientTime of [Date.now(), 123456.789, 0]) {
      const before = Date.now();
      host.ws.send({ type: 'ping', clientTime });
      const pong = await host.ws.next('pong');
      const afterMs = Date.now();
      assert.deepEqual(Object.keys(pong).sort(), ['clientTime', 'serverReceiveTime', 'serverSendTime', 'type']);
      assert.equal(pong.clientTime, clientTime, 'clientTime is echoed unchanged');
      assert.ok(Number.isInteger(pong.serverReceiveTime), `serverReceiveTime is an integer: ${pong.serverReceiveTime}`);
      assert.ok(Number.isInteger(pong.serverSendTime), `serverSendTime is an integer: ${pong.serverSendTime}`);
      assert.ok(pong.serverReceiveTime <= pong.serverSendTime, 'serverReceiveTime <= serverSendTime');
      // Same machine: the server's clock is ours, give or take rounding and a little drift.
      assert.ok(pong.serverReceiveTime >= before - 2_000 && pong.serverSendTime <= afterMs + 2_000, `server times ${JSON.stringify(pong)} within [${before}, ${afterMs}]`);
      const offset = (pong.serverReceiveTime - before + (pong.serverSendTime - afterMs)) / 2;
      assert.ok(Math.abs(offset) < 2_000, `estimated clock offset ${offset} ms`);
    }
    await host.ws.close();
  });
});

describe('host controls', () => {
  const s = lifecycle({ RECORDING_COUNTDOWN: '1s' });
  let room;
  let host;
  let g;
  let grace;
  before(async () => {
    room = await createRoom(s.server);
    host = await joinHost(s.server, room);
    grace = await addGuest(s.server, room, 'Grace');
    g = await joinGuest(s.server, room, grace);
  });

  async function recordingSeenByFreshJoin() {
    const joined = await assertParticipantsSeen(s.server, room, [host, g]);
    return joined.recording;
  }

  let firstTake;

  test('recording.start: everyone gets recording.started with one takeId and startAt = serverTime + countdown', async () => {
    host.ws.send({ type: 'recording.start' });
    const [h, gm] = [await host.ws.next('recording.started'), await g.ws.next('recording.started')];
    for (const msg of [h, gm]) {
      assert.deepEqual(Object.keys(msg).sort(), ['serverTime', 'startAt', 'takeId', 'type']);
      assert.match(msg.takeId, UUID_RE, 'takeId is a UUID');
      assert.ok(Number.isInteger(msg.startAt), 'startAt is an integer');
      assertServerTime(msg.serverTime, 'recording.started.serverTime');
      assert.ok(Math.abs(msg.startAt - msg.serverTime - 1000) <= 50, `startAt ${msg.startAt} = serverTime ${msg.serverTime} + 1000`);
    }
    assert.equal(h.takeId, gm.takeId, 'one take for everyone');
    assert.equal(h.startAt, gm.startAt, 'one start time for everyone');
    firstTake = h;

    const rec = await recordingSeenByFreshJoin();
    assert.deepEqual(rec, { state: 'recording', takeId: h.takeId, startAt: h.startAt, stopAt: null });
  });

  test('recording.start while recording: already_recording, nothing changes', async () => {
    host.ws.send({ type: 'recording.start' });
    await expectError(host.ws, 'already_recording');
    await barrier(host, g);
    assert.equal(g.ws.all('recording.started').length, 1, 'the guest got no second recording.started');
    assert.equal(host.ws.all('recording.started').length, 1);
    const rec = await recordingSeenByFreshJoin();
    assert.equal(rec.state, 'recording');
    assert.equal(rec.takeId, firstTake.takeId);
  });

  test('a guest gets forbidden for recording.start/stop, mute and remove; nothing changes', async () => {
    for (const msg of [
      { type: 'recording.stop' },
      { type: 'recording.start' },
      { type: 'mute', participantId: room.hostId },
      { type: 'remove', participantId: room.hostId },
      { type: 'mute', participantId: grace.id },
      { type: 'remove', participantId: grace.id },
    ]) {
      g.ws.send(msg);
      await expectError(g.ws, 'forbidden');
    }
    await barrier(g, host);
    assert.equal(host.ws.all((m) => ['mute-request', 'removed', 'recording.stopped'].includes(m.type)).length, 0, `the host was not affected: ${JSON.stringify(host.ws.received.slice(-10))}`);
    assert.equal(g.ws.all((m) => ['mute-request', 'removed', 'recording.stopped'].includes(m.type)).length, 0);
    assert.ok(host.ws.isOpen() && g.ws.isOpen());
    const rec = await recordingSeenByFreshJoin();
    assert.deepEqual(rec, { state: 'recording', takeId: firstTake.takeId, startAt: firstTake.startAt, stopAt: null });
  });

  test('recording.stop: everyone gets recording.stopped; stopping again gives not_recording', async () => {
    host.ws.send({ type: 'recording.stop' });
    const [h, gm] = [await host.ws.next('recording.stopped'), await g.ws.next('recording.stopped')];
    for (const msg of [h, gm]) {
      assert.deepEqual(Object.keys(msg).sort(), ['serverTime', 'stopAt', 'takeId', 'type']);
      assert.equal(msg.takeId, firstTake.takeId);
      assert.ok(Number.isInteger(msg.stopAt), 'stopAt is an integer');
      assertServerTime(msg.serverTime, 'recording.stopped.serverTime');
      assert.ok(Math.abs(msg.stopAt - msg.serverTime) <= 5_000, `stopAt ${msg.stopAt} near serverTime ${msg.serverTime}`);
    }
    assert.equal(h.stopAt, gm.stopAt);
    const rec = await recordingSeenByFreshJoin();
    assert.equal(rec.state, 'idle');

    host.ws.send({ type: 'recording.stop' });
    await expectError(host.ws, 'not_recording');
    await barrier(host, g);
    assert.equal(g.ws.all('recording.stopped').length, 1);
    assert.equal((await recordingSeenByFreshJoin()).state, 'idle');
  });

  test('a second recording.start makes a new take', async () => {
    host.ws.send({ type: 'recording.start' });
    const h = await host.ws.next('recording.started');
    const gm = await g.ws.next('recording.started');
    assert.equal(h.takeId, gm.takeId);
    assert.notEqual(h.takeId, firstTake.takeId, 'a new takeId');
    host.ws.send({ type: 'recording.stop' });
    assert.equal((await g.ws.next('recording.stopped')).takeId, h.takeId);
    await host.ws.next('recording.stopped');
  });

  test('mute sends mute-request to that participant only', async () => {
    const linus = await joinGuest(s.server, room, await addGuest(s.server, room, 'Linus'));
    await host.ws.next((m) => m.type === 'peer-joined' && m.participant?.id === linus.id);
    host.ws.send({ type: 'mute', participantId: grace.id });
    const req = await g.ws.next('mute-request');
    assert.deepEqual(req, { type: 'mute-request', from: room.hostId });
    await barrier(host, linus);
    assert.equal(linus.ws.all('mute-request').length, 0, 'only the target is asked to mute');
    assert.equal(host.ws.all('mute-request').length, 0);
    await linus.ws.close();
    await host.ws.next((m) => m.type === 'peer-left' && m.participantId === linus.id);
    await g.ws.next((m) => m.type === 'peer-left' && m.participantId === linus.id);
  });

  test('remove: removed + close 4403, peer-left to the others, and the token cannot join again', async () => {
    const victim = await addGuest(s.server, room, 'Mallory');
    const v = await joinGuest(s.server, room, victim);
    await host.ws.next((m) => m.type === 'peer-joined' && m.participant?.id === victim.id);
    await g.ws.next((m) => m.type === 'peer-joined' && m.participant?.id === victim.id);

    host.ws.send({ type: 'remove', participantId: victim.id });
    const removed = await v.ws.next('removed');
    assert.deepEqual(removed, { type: 'removed' });
    const closed = await v.ws.waitClosed();
    assert.equal(closed.code, 4403, 'a removed participant is closed with 4403');
    for (const m of [host, g]) await m.ws.next((msg) => msg.type === 'peer-left' && msg.participantId === victim.id);

    await expectJoinRefused(s.server, { token: victim.token, roomId: room.roomId }, [['forbidden', 4403]]);
    await expectJoinRefused(s.server, { token: victim.token }, [['forbidden', 4403]]);
    await assertRoomIntact(s.server, room, [host, g]);
  });
});

describe('recording state survives reconnects and restarts', () => {
  const s = lifecycle({ RECORDING_COUNTDOWN: '1s' });

  test('a host that reconnects finds the take still recording', async () => {
    const room = await createRoom(s.server);
    const host = await joinHost(s.server, room);
    const g = await joinGuest(s.server, room, await addGuest(s.server, room));
    host.ws.send({ type: 'recording.start' });
    const started = await host.ws.next('recording.started');
    await g.ws.next('recording.started');
    await host.ws.close();
    await g.ws.next((m) => m.type === 'peer-left' && m.participantId === room.hostId);

    const again = await joinHost(s.server, room);
    assert.deepEqual(again.joined.recording, { state: 'recording', takeId: started.takeId, startAt: started.startAt, stopAt: null });
    again.ws.send({ type: 'recording.stop' });
    const stopped = await g.ws.next('recording.stopped');
    assert.equal(stopped.takeId, started.takeId);
    await again.ws.close();
    await g.ws.close();
  });

  test('the take survives a server restart on the same data', async () => {
    const dataDir = await makeTempDir('zencast-ws-restart-');
    const db = await createTestDatabase(); // PostgreSQL when TEST_DATABASE_URL is set, else SQLite in dataDir
    const env = { RECORDING_COUNTDOWN: '1s', DATA_DIR: dataDir, ...(db ? { DATABASE_URL: db.url } : {}) };
    let first = null;
    let second = null;
    try {
      first = await startWsServer({ env });
      const room = await createRoom(first);
      const host = await joinHost(first, room);
      host.ws.send({ type: 'recording.start' });
      const started = await host.ws.next('recording.started');
      // Stop with the socket still open: the server must close it and still exit cleanly.
      await stopAndCheck(first);
      first = null;
      await host.ws.waitClosed({ timeoutMs: 10_000 });

      second = await startWsServer({ env });
      const again = await joinHost(second, room);
      assert.deepEqual(again.joined.recording, { state: 'recording', takeId: started.takeId, startAt: started.startAt, stopAt: null });
      again.ws.send({ type: 'recording.stop' });
      const stopped = await again.ws.next('recording.stopped');
      assert.equal(stopped.takeId, started.takeId);
      await again.ws.close();
      await stopAndCheck(second);
      second = null;
    } finally {
      await closeAllClients();
      if (first) await first.stop();
      if (second) await second.stop();
      await db?.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('chat and upload status', () => {
  const s = lifecycle({});
  let room;
  let host;
  let g;
  let grace;
  const history = [];
  before(async () => {
    room = await createRoom(s.server);
    host = await joinHost(s.server, room);
    grace = await addGuest(s.server, room, 'Grace');
    g = await joinGuest(s.server, room, grace);
  });

  function assertChat(msg, { from, name, text }) {
    assert.deepEqual(Object.keys(msg).sort(), ['message', 'type']);
    const m = msg.message;
    assert.deepEqual(Object.keys(m).sort(), ['from', 'id', 'name', 'sentAt', 'text']);
    assert.equal(typeof m.id, 'string');
    assert.ok(m.id.length > 0);
    assert.equal(m.from, from);
    assert.equal(m.name, name);
    assert.equal(m.text, text);
    assertEpochMs(m.sentAt, 'chat sentAt');
  }

  async function say(sender, text) {
    sender.ws.send({ type: 'chat', text });
    const [a, b] = [
      await host.ws.next((m) => m.type === 'chat' && m.message?.text === text),
      await g.ws.next((m) => m.type === 'chat' && m.message?.text === text),
    ];
    assertChat(a, { from: sender.id, name: sender.name, text });
    assert.deepEqual(a, b, 'everyone gets the same chat message');
    history.push(a.message);
    return a.message;
  }

  test('chat reaches everyone, the sender included', async () => {
    const m1 = await say(host, 'Hello everyone 👋');
    const m2 = await say(g, 'Grüße aus Köln – 日本語もOK');
    assert.notEqual(m1.id, m2.id);
    await say(host, 'é'.repeat(1000)); // exactly 2000 bytes
  });

  test('a later joiner gets the chat history, oldest first', async () => {
    const late = await joinGuest(s.server, room, await addGuest(s.server, room, 'Late'));
    assert.deepEqual(late.joined.chat, history);
    await late.ws.close();
    await host.ws.next((m) => m.type === 'peer-left' && m.participantId === late.id);
  });

  test('empty or too long chat text: invalid_message, nothing sent', async () => {
    for (const text of ['é'.repeat(1000) + 'x', 'x'.repeat(2001), '', '   \t\n  ']) {
      g.ws.send({ type: 'chat', text });
      await expectError(g.ws, 'invalid_message');
    }
    await barrier(g, host);
    assert.equal(host.ws.all('chat').length, history.length, 'no chat message went out');
    const joined = await assertParticipantsSeen(s.server, room, [host, g]);
    assert.deepEqual(joined.chat, history, 'the history is unchanged');
  });

  test('upload-status goes to the hosts only', async () => {
    g.ws.send({ type: 'upload-status', recorded: 5, uploaded: 3 });
    const st = await host.ws.next((m) => m.type === 'upload-status' && m.participantId === grace.id);
    assert.deepEqual(Object.keys(st).sort(), ['participantId', 'recorded', 'type', 'updatedAt', 'uploaded']);
    assert.equal(st.recorded, 5);
    assert.equal(st.uploaded, 3);
    assertEpochMs(st.updatedAt, 'upload-status updatedAt');

    host.ws.send({ type: 'upload-status', recorded: 7, uploaded: 7 });
    const own = await host.ws.next((m) => m.type === 'upload-status' && m.participantId === room.hostId);
    assert.equal(own.recorded, 7);
    await barrier(host, g);
    assert.equal(g.ws.all('upload-status').length, 0, `a guest gets no upload-status: ${JSON.stringify(g.ws.all('upload-status'))}`);

    const late = await joinGuest(s.server, room, await addGuest(s.server, room, 'Late guest'));
    assert.deepEqual(late.joined.uploads, {}, 'joined.uploads is {} for a guest');
    await late.ws.close();
    await host.ws.next((m) => m.type === 'peer-left' && m.participantId === late.id);

    // A host that (re)joins gets the statuses so far.
    await host.ws.close();
    await g.ws.next((m) => m.type === 'peer-left' && m.participantId === room.hostId);
    host = await joinHost(s.server, room);
    const uploads = host.joined.uploads;
    assert.equal(uploads[grace.id]?.recorded, 5, `joined.uploads: ${JSON.stringify(uploads)}`);
    assert.equal(uploads[grace.id]?.uploaded, 3);
    assertEpochMs(uploads[grace.id]?.updatedAt, 'uploads updatedAt');
    assert.equal(uploads[room.hostId]?.recorded, 7);
  });
});

describe('reconnect replaces the old connection', () => {
  const s = lifecycle({});

  test('a guest reconnecting: the old socket gets replaced + 4409, nobody sees the guest twice', async () => {
    const room = await createRoom(s.server);
    const host = await joinHost(s.server, room);
    const grace = await addGuest(s.server, room, 'Grace');
    const g1 = await joinGuest(s.server, room, grace);
    await host.ws.next((m) => m.type === 'peer-joined' && m.participant?.id === grace.id);

    const g2 = await joinGuest(s.server, room, grace);
    assertJoined(g2.joined, { roomId: room.roomId, participantId: grace.id, role: 'guest', name: 'Grace' });
    assert.deepEqual(g2.joined.participants.map((p) => p.id).sort(), [room.hostId, grace.id].sort());
    await expectErrorAndClose(g1.ws, 'replaced', 4409);

    await barrier(g2, host);
    assert.equal(
      host.ws.all((m) => m.type === 'peer-left' && m.participantId === grace.id).length,
      0,
      'the others get no peer-left for a replaced connection',
    );
    await assertRoomIntact(s.server, room, [host, g2]);

    // The host reconnects too, twice in a row.
    const h2 = await joinHost(s.server, room);
    await expectErrorAndClose(host.ws, 'replaced', 4409);
    const h3 = await joinHost(s.server, room);
    await expectErrorAndClose(h2.ws, 'replaced', 4409);
    assert.deepEqual(h3.joined.participants.map((p) => p.id).sort(), [room.hostId, grace.id].sort());
    await barrier(h3, g2);
    assert.equal(g2.ws.all((m) => m.type === 'peer-left' && m.participantId === room.hostId).length, 0);
    await assertRoomIntact(s.server, room, [h3, g2]);

    // Several sockets of one guest racing each other: one wins, the others are replaced.
    const racers = await Promise.all([0, 1, 2].map(() => connect(s.server)));
    for (const ws of racers) ws.send({ type: 'join', roomId: room.roomId, token: grace.token });
    await Promise.all(racers.map((ws) => ws.next((m) => m.type === 'joined' || m.type === 'error')));
    await expectErrorAndClose(g2.ws, 'replaced', 4409);
    await waitFor(() => racers.every((ws) => ws.isOpen() || ws.closeInfo()) && racers.filter((ws) => ws.isOpen()).length === 1, {
      what: 'exactly one racer left connected, the others closed',
      timeoutMs: 5_000,
    });
    const winner = racers.find((ws) => ws.isOpen());
    for (const ws of racers.filter((r) => r !== winner)) {
      assert.equal(ws.closeInfo().code, 4409, `a replaced racer is closed 4409: ${JSON.stringify(ws.closeInfo())}`);
    }
    await assertRoomIntact(s.server, room, [h3, { ws: winner, id: grace.id }]);
  });
});

describe('heartbeat', () => {
  const s = lifecycle({ HEARTBEAT_INTERVAL: '1s', HEARTBEAT_TIMEOUT: '3s' });

  test('a client that stops reading (no pongs, nothing read) is dropped: the others get peer-left', async () => {
    const room = await createRoom(s.server);
    const host = await joinHost(s.server, room);
    const grace = await addGuest(s.server, room, 'Sleepy');
    const g = await joinGuest(s.server, room, grace);
    await host.ws.next((m) => m.type === 'peer-joined' && m.participant?.id === grace.id);

    // The host keeps talking (clock sync), so only the guest is silent.
    const keepAlive = setInterval(() => host.ws.isOpen() && host.ws.send({ type: 'ping', clientTime: Date.now() }), 500);
    try {
      g.ws.ws._socket.pause(); // neither reads nor answers pings from now on
      const t0 = Date.now();
      await host.ws.next((m) => m.type === 'peer-left' && m.participantId === grace.id, { timeoutMs: 15_000 });
      assert.ok(Date.now() - t0 >= 2_500, `dropped only after about HEARTBEAT_TIMEOUT, not at once (${Date.now() - t0} ms)`);
    } finally {
      clearInterval(keepAlive);
    }
    await assertParticipantsSeen(s.server, room, [host]);
    // Once read again, the dropped socket finds itself closed.
    g.ws.ws._socket.resume();
    await g.ws.waitClosed({ timeoutMs: 10_000 });
    await host.ws.close();
  });

  test('a client that only answers the server pings stays connected past HEARTBEAT_TIMEOUT', async () => {
    const room = await createRoom(s.server);
    const observer = await joinGuest(s.server, room, await addGuest(s.server, room, 'Chatty'));
    const keepAlive = setInterval(() => observer.ws.isOpen() && observer.ws.send({ type: 'ping', clientTime: Date.now() }), 500);
    try {
      const host = await joinHost(s.server, room);
      // From now on the host sends nothing but the pongs ws sends by itself.
      const start = host.ws.pings();
      await host.ws.until((c) => c.pings() - start >= 5 || c.closeInfo(), { timeoutMs: 15_000, what: 'five server pings' });
      assert.ok(host.ws.isOpen(), `a client that answers pings must stay connected; it was closed after ${host.ws.pings() - start} pings: ${JSON.stringify(host.ws.closeInfo())}`);
      assert.ok(host.ws.pings() - start >= 5, `the server pings a quiet connection every HEARTBEAT_INTERVAL (${host.ws.pings() - start} pings)`);
      assert.equal(observer.ws.all((m) => m.type === 'peer-left' && m.participantId === room.hostId).length, 0, 'nobody saw the host leave');
      await pingPong(host.ws);
      await host.ws.close();
    } finally {
      clearInterval(keepAlive);
    }
    await observer.ws.close();
  });
});

describe('bad input', () => {
  // A high message rate: these tests send many messages quickly; the rate limit has its own server.
  const s = lifecycle({ WS_MESSAGES_PER_SECOND: '10000', MAX_PARTICIPANTS: '8' });
  let room;
  let host;
  let g;
  let grace;
  let otherRoom;
  let otherHost;
  before(async () => {
    room = await createRoom(s.server);
    host = await joinHost(s.server, room);
    grace = await addGuest(s.server, room, 'Grace');
    g = await joinGuest(s.server, room, grace);
    otherRoom = await createRoom(s.server, { name: 'Other Host' });
    otherHost = await joinHost(s.server, otherRoom);
  });

  const intact = () => assertRoomIntact(s.server, room, [host, g]);

  /** A guest of the room, joined, meant to misbehave and be closed. */
  async function mallory(name = 'Mallory') {
    const m = await joinGuest(s.server, room, await addGuest(s.server, room, name));
    await host.ws.next((msg) => msg.type === 'peer-joined' && msg.participant?.id === m.id);
    await g.ws.next((msg) => msg.type === 'peer-joined' && msg.participant?.id === m.id);
    return m;
  }

  /** After mallory was closed by the server, everyone saw it leave. */
  async function malloryGone(m) {
    for (const member of [host, g]) await member.ws.next((msg) => msg.type === 'peer-left' && msg.participantId === m.id);
  }

  test('anything before join: not_joined and close 4401', async () => {
    const marker = { beforeJoin: nonce() };
    for (const msg of [
      { type: 'ping', clientTime: 1 },
      { type: 'offer', to: room.hostId, payload: marker },
      { type: 'candidate', to: grace.id, payload: marker },
      { type: 'chat', text: marker.beforeJoin },
      { type: 'recording.start' },
    ]) {
      const ws = await connect(s.server, { token: grace.token });
      ws.send(msg);
      await expectErrorAndClose(ws, 'not_joined', 4401);
    }
    await barrier(g, host);
    await barrier(host, g);
    for (const m of [host, g]) {
      assert.equal(m.ws.all((x) => isDeepStrictEqual(x.payload, marker) || x.message?.text === marker.beforeJoin).length, 0, 'nothing sent before join was delivered');
      assert.equal(m.ws.all('recording.started').length, 0);
    }
    await intact();
  });

  test('join without a token, or with a garbage one: unauthorized 4401', async () => {
    await expectJoinRefused(s.server, { roomId: room.roomId }, UNAUTHORIZED);
    await expectJoinRefused(s.server, { token: 'not-a-jwt', roomId: room.roomId }, UNAUTHORIZED);
    await expectJoinRefused(s.server, { token: '', roomId: room.roomId }, UNAUTHORIZED);
    await expectJoinRefused(s.server, { token: 'x'.repeat(5000), roomId: room.roomId }, UNAUTHORIZED);
    await expectJoinRefused(s.server, { token: 'a.b.c', roomId: room.roomId, tokenInQuery: true }, UNAUTHORIZED);
    await intact();
  });

  test('forged tokens: alg none, wrong key, HS512: unauthorized 4401', async () => {
    for (const token of [forge.none(room.userId), forge.wrongKey(room.userId), forge.hs512(room.userId)]) {
      await expectJoinRefused(s.server, { token, roomId: room.roomId }, UNAUTHORIZED);
    }
    const claims = participantClaims({ sub: grace.id, room: room.roomId, name: 'Grace' });
    for (const token of [
      signJwt(claims, { alg: 'none' }),
      signJwt(claims, { secret: 'this-is-not-the-zencast-test-secret-0123456789ab' }),
      signJwt({ ...claims, typ: 'refresh' }),
    ]) {
      await expectJoinRefused(s.server, { token, roomId: room.roomId }, UNAUTHORIZED);
    }
    // The impostor did not replace the real Grace.
    await barrier(host, g);
    assert.ok(g.ws.isOpen());
    await intact();
  });

  test('expired tokens: token_expired 4401', async () => {
    await expectJoinRefused(s.server, { token: forge.expired(room.userId), roomId: room.roomId }, EXPIRED);
    const now = Math.floor(Date.now() / 1000);
    const expiredGuest = forge.participant({ sub: grace.id, room: room.roomId, name: 'Grace' }, { iat: now - 7200, exp: now - 3600 });
    await expectJoinRefused(s.server, { token: expiredGuest, roomId: room.roomId }, EXPIRED);
    await intact();
  });

  test("tokens for another room or another user's recording: forbidden 4403 or not_found 4404", async () => {
    // The other room's host with this room's id.
    await expectJoinRefused(s.server, { token: otherRoom.token, roomId: room.roomId }, FORBIDDEN_OR_NOT_FOUND);
    // A guest of the other room with this room's id.
    const otherGuest = await addGuest(s.server, otherRoom, 'Elsewhere');
    await expectJoinRefused(s.server, { token: otherGuest.token, roomId: room.roomId }, FORBIDDEN_OR_NOT_FOUND);
    // This room's guest with the other room's id.
    await expectJoinRefused(s.server, { token: grace.token, roomId: otherRoom.roomId }, FORBIDDEN_OR_NOT_FOUND);
    // A room that does not exist.
    await expectJoinRefused(s.server, { token: room.token, roomId: randomUUID() }, FORBIDDEN_OR_NOT_FOUND);
    // A correctly signed participant token for a participant that does not exist.
    const ghost = forge.participant({ sub: randomUUID(), room: room.roomId, name: 'Ghost' });
    await expectJoinRefused(s.server, { token: ghost, roomId: room.roomId }, FORBIDDEN_OR_NOT_FOUND);
    // A participant of a deleted recording.
    const doomed = await createRoom(s.server, { name: 'Doomed Host' });
    const doomedGuest = await addGuest(s.server, doomed, 'Doomed Guest');
    const del = await s.server.request('DELETE', `/api/recordings/${doomed.roomId}`, { token: doomed.token });
    assert.equal(del.status, 204);
    await expectJoinRefused(s.server, { token: doomedGuest.token, roomId: doomed.roomId }, FORBIDDEN_OR_NOT_FOUND);
    await expectJoinRefused(s.server, { token: doomed.token, roomId: doomed.roomId }, FORBIDDEN_OR_NOT_FOUND);

    await pingPong(otherHost.ws);
    assert.equal(otherHost.ws.all('peer-joined').length, 0, 'nobody joined the other room');
    await intact();
  });

  test('malformed JSON and non-objects: invalid_json; the connection stays', async () => {
    for (const raw of ['{"type":', 'not json', '[1,2,3]', '[{"type":"ping","clientTime":1}]', '"ping"', '42', 'null', 'true', '{"type":"ping","clientTime":1} trailing', '\u00ff\u00fe']) {
      await g.ws.sendRaw(raw);
      await expectError(g.ws, 'invalid_json');
    }
    // Invalid UTF-8 in a text frame: the WebSocket protocol itself says close 1007, accept it or invalid_json.
    await pingPong(g.ws);
    assert.ok(g.ws.isOpen());
    await intact();
  });

  test('unknown type: unknown_type; missing or wrong-typed fields: invalid_message', async () => {
    g.ws.send({ type: 'dance', with: 'me' });
    await expectError(g.ws, 'unknown_type');
    g.ws.send({ type: 'PING', clientTime: 1 });
    await expectError(g.ws, 'unknown_type');
    for (const msg of [{}, { type: 42 }, { type: null }, { type: ['ping'] }]) {
      g.ws.send(msg);
      await expectError(g.ws, ['invalid_message', 'unknown_type']);
    }
    for (const msg of [
      { type: 'offer', payload: { sdp: 'x' } },
      { type: 'offer', to: 42, payload: {} },
      { type: 'answer', to: null, payload: {} },
      { type: 'candidate', to: room.hostId },
      { type: 'ping' },
      { type: 'ping', clientTime: 'now' },
      { type: 'chat' },
      { type: 'chat', text: 42 },
      { type: 'chat', text: ['hi'] },
      { type: 'upload-status', recorded: 5 },
      { type: 'upload-status', recorded: -1, uploaded: 0 },
      { type: 'upload-status', recorded: 100001, uploaded: 0 },
      { type: 'upload-status', recorded: 1.5, uploaded: 1 },
      { type: 'upload-status', recorded: '5', uploaded: 3 },
      { type: 'upload-status', recorded: 3, uploaded: 5 },
    ]) {
      g.ws.send(msg);
      await expectError(g.ws, 'invalid_message');
    }
    for (const msg of [
      { type: 'mute' },
      { type: 'mute', participantId: 7 },
      { type: 'remove' },
      { type: 'remove', participantId: { id: grace.id } },
    ]) {
      host.ws.send(msg);
      await expectError(host.ws, 'invalid_message');
    }
    await barrier(g, host);
    await barrier(host, g);
    assert.equal(host.ws.all((m) => ['chat', 'upload-status', 'pong'].includes(m.type)).length, 0, 'nothing reached the host');
    assert.equal(g.ws.all((m) => ['mute-request', 'removed', 'chat'].includes(m.type)).length, 0, 'nothing reached the guest');
    await intact();
  });

  test('a binary frame: unsupported and close 1003', async () => {
    const m = await mallory();
    await m.ws.sendRaw(Buffer.from(JSON.stringify({ type: 'ping', clientTime: 1 })), { binary: true });
    await expectErrorAndClose(m.ws, 'unsupported', 1003);
    await malloryGone(m);
    await intact();
  });

  test('a message over 64 KiB: message_too_large and close 1009, also when fragmented', async () => {
    const m = await mallory();
    m.ws.send({ type: 'chat', text: 'x'.repeat(70 * 1024) });
    await expectErrorAndClose(m.ws, 'message_too_large', 1009);
    await malloryGone(m);

    const m2 = await mallory('Mallory in pieces');
    const big = JSON.stringify({ type: 'offer', to: room.hostId, payload: { blob: 'y'.repeat(80 * 1024) } });
    const third = Math.floor(big.length / 3);
    await m2.ws.sendRaw(big.slice(0, third), { fin: false });
    await m2.ws.sendRaw(big.slice(third, 2 * third), { fin: false });
    await m2.ws.sendRaw(big.slice(2 * third), { fin: true });
    await expectErrorAndClose(m2.ws, 'message_too_large', 1009);
    await malloryGone(m2);
    assert.equal(host.ws.all((msg) => msg.type === 'offer' && msg.from === m2.id).length, 0, 'the oversize offer was not relayed');

    // Just under the limit is fine.
    const fits = { type: 'offer', to: room.hostId, payload: { blob: 'z'.repeat(60 * 1024) } };
    g.ws.send(fits);
    const got = await host.ws.next((msg) => msg.type === 'offer' && msg.from === grace.id && msg.payload?.blob?.length === 60 * 1024);
    assert.equal(got.payload.blob, fits.payload.blob);
    await intact();
  });

  test('a fragmented message is reassembled (with a ping frame in between)', async () => {
    const clientTime = 987654321;
    const ping = JSON.stringify({ type: 'ping', clientTime });
    await g.ws.sendRaw(ping.slice(0, 5), { fin: false });
    g.ws.ws.ping(); // a control frame between fragments is allowed
    await g.ws.sendRaw(ping.slice(5, 12), { fin: false });
    await g.ws.sendRaw(ping.slice(12), { fin: true });
    const pong = await g.ws.next((m) => m.type === 'pong' && m.clientTime === clientTime);
    assert.ok(Number.isInteger(pong.serverSendTime));

    const payload = { sdp: 'v=0\r\n' + 'a=fragment 🎧\r\n'.repeat(200), n: nonce() };
    const offer = Buffer.from(JSON.stringify({ type: 'offer', to: room.hostId, payload }));
    // Split inside a multi-byte UTF-8 character on purpose.
    const cut = offer.indexOf(Buffer.from('🎧')) + 2;
    await g.ws.sendRaw(offer.subarray(0, cut), { fin: false, binary: false });
    await g.ws.sendRaw(offer.subarray(cut), { fin: true, binary: false });
    const got = await host.ws.next((m) => m.type === 'offer' && m.payload?.n === payload.n);
    assert.deepEqual(got, { type: 'offer', from: grace.id, payload });
    await intact();
  });

  test('relay to a participant of another room or to nobody: peer_not_found, nothing delivered', async () => {
    const marker = { secret: nonce('leak') };
    for (const type of ['offer', 'answer', 'candidate']) {
      g.ws.send({ type, to: otherRoom.hostId, payload: marker });
      await expectError(g.ws, 'peer_not_found');
    }
    g.ws.send({ type: 'offer', to: randomUUID(), payload: marker });
    await expectError(g.ws, 'peer_not_found');
    g.ws.send({ type: 'offer', to: 'not-even-a-uuid', payload: marker });
    await expectError(g.ws, ['peer_not_found', 'invalid_message']);
    // The guest's errors are out, so any leak was queued for the other room before this pong.
    await pingPong(otherHost.ws);
    assert.equal(otherHost.ws.all((m) => isDeepStrictEqual(m.payload, marker)).length, 0, 'the other room got nothing');
    await barrier(g, host);
    assert.equal(host.ws.all((m) => isDeepStrictEqual(m.payload, marker)).length, 0, 'nobody in the room got it either');
    // A peer that is not connected (joined by REST, never by WebSocket).
    const offline = await addGuest(s.server, room, 'Offline');
    host.ws.send({ type: 'offer', to: offline.id, payload: marker });
    await expectError(host.ws, 'peer_not_found');
    await intact();
  });

  test('the handshake is refused for a wrong subprotocol, path or Origin', async () => {
    /** 'open', or the HTTP status of the refusal, or 'no HTTP answer (<error>)'. */
    const outcome = (options) =>
      connect(s.server, options).then(
        (ws) => {
          ws.terminate();
          return 'open';
        },
        (e) => e.status ?? `no HTTP answer (${e.message})`,
      );
    const cases = [
      ['no subprotocol', { protocol: null }, [400, 403, 404]],
      // lws 4.1 ends these handshakes itself, without an HTTP answer: refused, not upgraded.
      ['another subprotocol', { protocol: 'zencast.v2' }, [400, 403, 404, 'no HTTP answer (socket hang up)']],
      ['other subprotocols only', { protocol: ['chat', 'superchat'] }, [400, 403, 404, 'no HTTP answer (socket hang up)']],
      ['path /other', { path: '/other' }, [400, 403, 404]],
      ['path /api/ws', { path: '/api/ws' }, [400, 403, 404]],
      ['path /ws/extra', { path: '/ws/extra' }, [400, 403, 404]],
      ['a foreign Origin', { origin: 'http://evil.example' }, [403]],
      ['this host on another port', { origin: `http://127.0.0.1:${s.server.port + 1}` }, [403]],
      ['Origin null', { origin: 'null' }, [403]],
    ];
    const wrong = [];
    for (const [what, options, statuses] of cases) {
      const got = await outcome(options);
      if (!statuses.includes(got)) wrong.push(`${what}: expected HTTP ${statuses.join('/')}, got ${got}`);
    }

    // Accepted: several subprotocols including ours; the default origins.
    const multi = await connect(s.server, { protocol: ['other.v9', 'zencast.v1'] });
    assert.equal(multi.ws.protocol, 'zencast.v1');
    await multi.close();
    for (const origin of [`http://127.0.0.1:${s.server.port}`, `http://localhost:${s.server.port}`]) {
      const m = await join(s.server, { token: grace.token, roomId: room.roomId, origin });
      // That replaced Grace's connection: the new one is Grace from now on.
      await expectErrorAndClose(g.ws, 'replaced', 4409);
      g = m;
    }
    await intact();
    assert.deepEqual(wrong, [], 'every bad handshake is refused with an HTTP status');
  });

  test('no join within 10 s: close 4408', async () => {
    const ws = await connect(s.server, { token: room.token });
    const closed = await ws.waitClosed({ timeoutMs: 15_000 });
    assert.equal(closed.code, 4408);
    await intact();
  });
});

describe('rate limit', () => {
  const s = lifecycle({ WS_MESSAGES_PER_SECOND: '50' });
  let room;
  let host;
  let g;
  before(async () => {
    room = await createRoom(s.server);
    host = await joinHost(s.server, room);
    g = await joinGuest(s.server, room, await addGuest(s.server, room, 'Grace'));
  });

  const intact = () => assertRoomIntact(s.server, room, [host, g]);

  async function mallory(name) {
    const m = await joinGuest(s.server, room, await addGuest(s.server, room, name));
    await host.ws.next((msg) => msg.type === 'peer-joined' && msg.participant?.id === m.id);
    await g.ws.next((msg) => msg.type === 'peer-joined' && msg.participant?.id === m.id);
    return m;
  }

  async function malloryGone(m) {
    for (const member of [host, g]) await member.ws.next((msg) => msg.type === 'peer-left' && msg.participantId === m.id);
  }

  test('a flood: rate_limited and close 1008, while the room keeps working', async () => {
    const m = await mallory('Flooder');
    for (let i = 0; i < 400; i++) m.ws.send({ type: 'ping', clientTime: i });
    const outcome = await m.ws.until(
      (c) => c.closeInfo() || c.all((x) => x.type === 'error' && x.code === 'rate_limited').length > 0,
      { timeoutMs: 10_000, what: 'rate_limited or a close' },
    );
    assert.ok(outcome, 'the flooder was limited');
    // Meanwhile the others are served.
    await relayOk(host, g);
    const closed = await m.ws.waitClosed({ timeoutMs: 10_000 });
    assert.equal(closed.code, 1008, `more than 3x the rate in one second closes 1008: ${JSON.stringify(closed)}`);
    const pongs = m.ws.all('pong').length;
    assert.ok(pongs <= 100, `at most the allowed rate was answered (${pongs} pongs for 400 pings)`);
    for (const e of m.ws.all('error')) assertErrorMessage(e, 'rate_limited');
    await malloryGone(m);
    await intact();
  });

  test('over the rate but under 3x: rate_limited once, the excess dropped, the connection stays', async () => {
    const m = await mallory('Eager');
    for (let i = 0; i < 120; i++) m.ws.send({ type: 'ping', clientTime: i });
    await m.ws.seen((x) => x.type === 'error' && x.code === 'rate_limited');
    // Once a later ping is answered again (the next second), the server has read the whole burst.
    const probe = await waitFor(
      async () => {
        const clientTime = 1e6 + Math.random();
        m.ws.send({ type: 'ping', clientTime });
        const answer = await m.ws.next((x) => (x.type === 'pong' && x.clientTime === clientTime) || (x.type === 'error' && x.code === 'rate_limited'), { timeoutMs: 2_000 });
        return answer.type === 'pong' ? answer : null;
      },
      { timeoutMs: 10_000, intervalMs: 250, what: 'a ping answered again after the flood' },
    );
    assert.ok(probe);
    assert.ok(m.ws.isOpen(), 'a client over the limit but under 3x is not closed');
    const pongs = m.ws.all((x) => x.type === 'pong' && x.clientTime < 1e6).length;
    assert.ok(pongs >= 1 && pongs <= 100, `some pings were dropped: ${pongs} of 120 answered`);
    const limited = m.ws.all((x) => x.type === 'error' && x.code === 'rate_limited').length;
    assert.ok(limited <= 3, `rate_limited is sent at most once per second, got ${limited}`);
    await m.ws.close();
    await malloryGone(m);
    await intact();
  });

});

describe('ALLOWED_ORIGINS', () => {
  const s = lifecycle({ ALLOWED_ORIGINS: 'https://studio.example.com,https://other.example.org:8443' });

  test('only the listed origins (and no Origin at all) may connect', async () => {
    for (const origin of ['https://studio.example.com', 'https://other.example.org:8443', undefined]) {
      const ws = await connect(s.server, { origin });
      await ws.close();
    }
    for (const origin of [`http://127.0.0.1:${s.server.port}`, 'https://studio.example.com.evil.net', 'http://studio.example.com', 'https://other.example.org']) {
      const err = await connect(s.server, { origin }).then(
        (ws) => {
          ws.terminate();
          return null;
        },
        (e) => e,
      );
      assert.ok(err, `Origin ${origin} should be refused`);
      assert.equal(err.status, 403, `Origin ${origin}: ${err.message}`);
    }
  });
});

describe('room full', () => {
  const s = lifecycle({ MAX_PARTICIPANTS: '2' });

  test('a third participant gets room_full and 4429; members can still reconnect', async () => {
    const room = await createRoom(s.server);
    const host = await joinHost(s.server, room);
    const grace = await addGuest(s.server, room, 'Grace');
    const g = await joinGuest(s.server, room, grace);
    const linus = await addGuest(s.server, room, 'Linus');
    await expectJoinRefused(s.server, { token: linus.token, roomId: room.roomId }, [['room_full', 4429]]);

    // Nothing changed: relay works, nobody saw Linus.
    await relayOk(host, g);
    await relayOk(g, host);
    assert.equal(host.ws.all((m) => m.type === 'peer-joined' && m.participant?.id === linus.id).length, 0);

    // A member reconnecting is not refused (the joiner is among the connected).
    const g2 = await joinGuest(s.server, room, grace);
    await expectErrorAndClose(g.ws, 'replaced', 4409);
    assert.deepEqual(g2.joined.participants.map((p) => p.id).sort(), [room.hostId, grace.id].sort());
    const h2 = await joinHost(s.server, room);
    await expectErrorAndClose(host.ws, 'replaced', 4409);
    await relayOk(h2, g2);

    // Once someone leaves there is room again.
    await g2.ws.close();
    await h2.ws.next((m) => m.type === 'peer-left' && m.participantId === grace.id);
    const l = await joinGuest(s.server, room, linus);
    assert.deepEqual(l.joined.participants.map((p) => p.id).sort(), [room.hostId, linus.id].sort());
    await relayOk(l, h2);
    await l.ws.close();
    await h2.ws.close();
  });
});

/** Redis's run_id (INFO server), which changes when Redis restarts. */
function redisRunId(redisUrl) {
  const url = new URL(redisUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port || 6379), url.hostname);
    let text = '';
    const timer = setTimeout(() => socket.destroy(new Error('no answer from Redis to INFO')), 5_000);
    socket.on('connect', () => {
      if (url.password) socket.write(`AUTH ${decodeURIComponent(url.password)}\r\n`);
      socket.write('INFO server\r\n');
    });
    socket.setEncoding('utf8').on('data', (d) => {
      text += d;
      const match = /run_id:([0-9a-f]+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        socket.destroy();
        resolve(match[1]);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('two instances sharing Redis', () => {
  const redisUrl = process.env.TEST_REDIS_URL;
  const pgUrl = process.env.TEST_DATABASE_URL;
  const skip = !redisUrl
    ? 'TEST_REDIS_URL is not set (a throwaway Redis started by the test script)'
    : !pgUrl
      ? 'TEST_DATABASE_URL is not set: two instances need one shared PostgreSQL (SQLite cannot be shared between processes)'
      : false;
  const ctlSkip = process.env.TEST_REDIS_CTL ? false : 'TEST_REDIS_CTL is not set (a script that restarts the test Redis)';

  let db;
  let a;
  let b;
  before(async () => {
    if (skip) return;
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL: redisUrl, RECORDING_COUNTDOWN: '1s' };
    a = await startWsServer({ env });
    b = await startWsServer({ env });
  });
  after(async () => {
    if (skip) return;
    await closeAllClients();
    try {
      await stopAndCheck(a);
      await stopAndCheck(b);
    } finally {
      await db?.drop();
    }
  });

  test('peers on different instances see each other, relay, chat and record', { skip }, async () => {
    const room = await createRoom(a);
    const host = await joinHost(a, room);
    const grace = await addGuest(b, room, 'Grace on B');
    const g = await joinGuest(b, room, grace);
    assert.deepEqual(g.joined.participants.map((p) => p.id).sort(), [room.hostId, grace.id].sort(), 'B lists the host connected to A');
    await host.ws.next((m) => m.type === 'peer-joined' && m.participant?.id === grace.id, { timeoutMs: 10_000 });

    await relayOk(host, g, { type: 'offer' });
    await relayOk(g, host, { type: 'answer' });
    await relayOk(host, g, { type: 'candidate' });
    await relayOk(g, host, { type: 'candidate' });

    for (const [sender, text] of [
      [g, 'hello from B 🅱️'],
      [host, 'hello from A 🅰️'],
    ]) {
      sender.ws.send({ type: 'chat', text });
      const x = await host.ws.next((m) => m.type === 'chat' && m.message?.text === text);
      const y = await g.ws.next((m) => m.type === 'chat' && m.message?.text === text);
      assert.deepEqual(x, y);
      assert.equal(x.message.from, sender.id);
    }

    host.ws.send({ type: 'recording.start' });
    const sa = await host.ws.next('recording.started');
    const sb = await g.ws.next('recording.started');
    assert.equal(sa.takeId, sb.takeId);
    assert.equal(sa.startAt, sb.startAt);
    // The host reconnects on B: the connection on A is replaced, the take is the same.
    const hostB = await joinHost(b, room);
    await expectErrorAndClose(host.ws, 'replaced', 4409);
    assert.equal(hostB.joined.recording.state, 'recording');
    assert.equal(hostB.joined.recording.takeId, sa.takeId);
    hostB.ws.send({ type: 'recording.start' });
    await expectError(hostB.ws, 'already_recording');
    hostB.ws.send({ type: 'recording.stop' });
    assert.equal((await g.ws.next('recording.stopped')).takeId, sa.takeId);

    // Host controls and upload status cross instances; peer-left too.
    const hostA = await joinHost(a, room);
    await expectErrorAndClose(hostB.ws, 'replaced', 4409);
    await barrier(hostA, g);
    assert.equal(g.ws.all((m) => m.type === 'peer-left' && m.participantId === room.hostId).length, 0, 'no peer-left for a replaced host');
    hostA.ws.send({ type: 'mute', participantId: grace.id });
    assert.deepEqual(await g.ws.next('mute-request'), { type: 'mute-request', from: room.hostId });
    g.ws.send({ type: 'upload-status', recorded: 4, uploaded: 2 });
    const st = await hostA.ws.next((m) => m.type === 'upload-status' && m.participantId === grace.id);
    assert.equal(st.uploaded, 2);
    const linus = await joinGuest(b, room, await addGuest(a, room, 'Linus on B'));
    await hostA.ws.next((m) => m.type === 'peer-joined' && m.participant?.id === linus.id);
    await linus.ws.close();
    await hostA.ws.next((m) => m.type === 'peer-left' && m.participantId === linus.id);
    await assertParticipantsSeen(a, room, [hostA, g], { observerServer: b });
    await assertParticipantsSeen(a, room, [hostA, g], { observerServer: a });

  });

  test('a peer is reachable from the other instance as soon as it has its joined', { skip }, async () => {
    // Once B has answered `joined`, the guest is connected: a relay from A must be delivered (or
    // refused with peer_not_found), never silently lost while B is still subscribing.
    const room = await createRoom(a);
    const hostA = await joinHost(a, room);
    const lost = [];
    for (let round = 0; round < 10; round++) {
      const guest = await addGuest(a, room, `Newcomer ${round}`);
      const g = await joinGuest(b, room, guest);
      const payload = { round, n: nonce() };
      hostA.ws.send({ type: 'offer', to: guest.id, payload });
      const got = await g.ws.next((m) => m.type === 'offer' && isDeepStrictEqual(m.payload, payload), { timeoutMs: 3_000 }).catch(() => null);
      if (!got) lost.push(round);
      await g.ws.close();
      await hostA.ws.next((m) => m.type === 'peer-left' && m.participantId === guest.id, { timeoutMs: 10_000 });
    }
    const refused = hostA.ws.all('error');
    assert.deepEqual(lost, [], `offers sent from A right after the guest joined on B were lost in rounds ${lost.join(', ')} (errors to the sender: ${JSON.stringify(refused)})`);
  });

  test('after a Redis restart (empty), relay and presence between instances recover within 15 s', { skip: skip || ctlSkip }, async () => {
    const room = await createRoom(a);
    const hostA = await joinHost(a, room);
    const grace = await addGuest(b, room, 'Grace on B');
    const g = await joinGuest(b, room, grace);
    await hostA.ws.next((m) => m.type === 'peer-joined' && m.participant?.id === grace.id, { timeoutMs: 10_000 });
    await relayOk(hostA, g);
    await relayOk(g, hostA);

    const runId = await redisRunId(redisUrl);
    await execFileAsync('sh', ['-c', `${process.env.TEST_REDIS_CTL} restart`], { timeout: 30_000 });
    assert.notEqual(await redisRunId(redisUrl), runId, 'TEST_REDIS_CTL restart did restart Redis');
    const deadline = Date.now() + 15_000;
    const remaining = () => Math.max(1, deadline - Date.now());

    const relayAgain = async (from, to, type) => {
      const tag = nonce('after-restart');
      await waitFor(
        async () => {
          from.ws.send({ type, to: to.id, payload: { tag } });
          return to.ws.next((m) => m.type === type && m.from === from.id && m.payload?.tag === tag, { timeoutMs: 500 }).catch(() => null);
        },
        { timeoutMs: remaining(), intervalMs: 100, what: `${type} relayed between instances after the Redis restart` },
      );
    };
    await relayAgain(hostA, g, 'offer');
    await relayAgain(g, hostA, 'answer');
    assert.ok(hostA.ws.isOpen() && g.ws.isOpen(), 'local connections survive a Redis restart');

    const observer = await addGuest(a, room, 'Observer after restart');
    await waitFor(
      async () => {
        const obs = await joinGuest(b, room, observer);
        const ids = obs.joined.participants.map((p) => p.id);
        assertNoDuplicates(obs.joined.participants);
        await obs.ws.close();
        return ids.includes(room.hostId) && ids.includes(grace.id);
      },
      { timeoutMs: remaining(), intervalMs: 200, what: 'a fresh join on B to list the host on A after the Redis restart' },
    );
    await relayOk(hostA, g);
    await relayOk(g, hostA);
    g.ws.send({ type: 'chat', text: 'after the restart' });
    await hostA.ws.next((m) => m.type === 'chat' && m.message?.text === 'after the restart');
  });
});
