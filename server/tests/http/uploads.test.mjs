// Chunk uploads (issue 4): presign -> PUT /storage/{key} -> confirm, status, complete, finalize, and
// everything that must be refused without storing or overwriting a byte. The contract is the
// "Uploads" section of docs/api.md.
//
// Every server here uses the local folder (DATA_DIR/objects) and has PUBLIC_URL set to its own
// address, so the presigned URLs point at it. Nothing sleeps: waits are on conditions (a file
// appearing or going, the clock passing a time the server gave us, a message on the WebSocket).
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { rawHttp, rawTcp, statusOf } from './lib/client.mjs';
import { UUID_RE, assertError, assertInvalidField, assertJson, clockPast, stopAndCheck } from './lib/expect.mjs';
import { createTestDatabase, freePort, makeTempDir, registerUser, startServer, uniqueEmail, waitFor } from './lib/server.mjs';
import { closeAllClients, joinAs } from './lib/ws.mjs';

// ---------------------------------------------------------------------------------------------
// Servers

// Settings of the server that the caller's shell must not change for these tests.
const CLEARED = {
  ALLOWED_ORIGINS: undefined,
  MAX_PARTICIPANTS: undefined,
  WS_MAX_MESSAGE_BYTES: undefined,
  WS_MESSAGES_PER_SECOND: undefined,
  WS_SEND_QUEUE_BYTES: undefined,
  HEARTBEAT_INTERVAL: undefined,
  HEARTBEAT_TIMEOUT: undefined,
  STUN_URLS: undefined,
  TURN_URLS: undefined,
  TURN_SECRET: undefined,
  TURN_TTL: undefined,
  REDIS_URL: undefined,
  MAX_CHUNK_BYTES: undefined,
  UPLOAD_URL_TTL: undefined,
  UPLOAD_GRACE: undefined,
  RAW_RETENTION: undefined,
  AWS_S3_ENDPOINT: undefined,
};

/**
 * A server on a port chosen first, so PUBLIC_URL is its own base URL and the presigned local
 * URLs point at it. options.dataDir / options.database keep data across two servers.
 */
async function startUploadServer(env = {}, options = {}) {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const server = await startServer({
    ...options,
    port,
    env: { ...CLEARED, RECORDING_COUNTDOWN: '1s', UPLOAD_GRACE: '1s', PUBLIC_URL: publicUrl, ...env },
  });
  assert.equal(server.url, publicUrl, 'the harness listens where PUBLIC_URL says');
  return server;
}

/** describe()-level server: started in before(), checked for a clean stop in after(). */
function useServer(env = {}) {
  const holder = { server: null };
  before(async () => {
    holder.server = await startUploadServer(env);
  });
  after(async () => {
    await closeAllClients();
    await stopAndCheck(holder.server);
  });
  return holder;
}

// ---------------------------------------------------------------------------------------------
// Sessions, takes, participants

/**
 * A host with a recording and `guests` guests joined through the REST API:
 * { roomId, inviteToken, host: {token, id, userId}, guests: [{token, id}] }.
 */
async function newSession(server, { guests = 1, title = 'Uploads test' } = {}) {
  const user = await registerUser(server, { email: uniqueEmail('up-host'), name: 'Ada Host' });
  const res = await server.request('POST', '/api/recordings', { token: user.accessToken, body: { title } });
  assertJson(res, 201);
  const rec = res.body.recording;
  const hostParticipant = rec.participants.find((p) => p.role === 'host');
  assert.ok(hostParticipant, `the recording lists its host: ${res.text}`);
  const session = {
    roomId: rec.roomId,
    inviteToken: rec.inviteToken,
    host: { token: user.accessToken, id: hostParticipant.id, userId: user.user.id },
    guests: [],
    ws: null,
  };
  for (let i = 0; i < guests; i++) session.guests.push(await addGuest(server, session, `Guest ${i + 1}`));
  return session;
}

async function addGuest(server, session, name = 'Grace Guest') {
  const res = await server.request('POST', `/api/rooms/${session.roomId}/join`, {
    body: { inviteToken: session.inviteToken, name },
  });
  assertJson(res, 201);
  return { token: res.body.participantToken, id: res.body.participant.id, name };
}

/** The host joins over the WebSocket (once) and starts a take: resolves recording.started. */
async function startTake(server, session) {
  if (!session.ws) session.ws = (await joinAs(server, { token: session.host.token, roomId: session.roomId })).ws;
  session.ws.send({ type: 'recording.start' });
  const started = await session.ws.next((m) => m.type === 'recording.started' || m.type === 'error');
  assert.equal(started.type, 'recording.started', `recording.start answered ${JSON.stringify(started)}`);
  assert.match(started.takeId, UUID_RE);
  return started;
}

/** The host stops the take: resolves recording.stopped. */
async function stopTake(session) {
  session.ws.send({ type: 'recording.stop' });
  const stopped = await session.ws.next((m) => m.type === 'recording.stopped' || m.type === 'error');
  assert.equal(stopped.type, 'recording.stopped', `recording.stop answered ${JSON.stringify(stopped)}`);
  return stopped;
}

/**
 * Waits (a few seconds at most) until GET /api/recordings/{roomId} shows this status: the
 * recording's status may be written just after the answer that changed it.
 */
async function waitForRecordingStatus(server, host, roomId, expected) {
  let last = null;
  try {
    await waitFor(
      async () => {
        const res = await server.request('GET', `/api/recordings/${roomId}`, { token: host.token });
        assertJson(res, 200);
        last = res.body.recording.status;
        return last === expected;
      },
      { timeoutMs: 3_000, what: `GET /api/recordings/{roomId} status "${expected}"` },
    );
  } catch (err) {
    err.message += ` (last seen: ${JSON.stringify(last)})`;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The upload routes

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** size random bytes and their SHA-256. */
function makeChunk(size) {
  const bytes = randomBytes(size);
  return { bytes, sha256: sha256(bytes), size };
}

function presign(server, token, body) {
  return server.request('POST', '/api/uploads/presign', { token, body });
}

function presignChunk(server, who, roomId, index, chunk, { contentType = 'video/webm', mediaStartMs } = {}) {
  const body = { roomId, chunkIndex: index, size: chunk.bytes.length, sha256: chunk.sha256, contentType };
  if (mediaStartMs !== undefined) body.mediaStartMs = mediaStartMs;
  return presign(server, who.token, body);
}

function confirm(server, who, roomId, chunkIndex, mediaStartMs = Date.now()) {
  return server.request('POST', '/api/uploads/confirm', { token: who.token, body: { roomId, chunkIndex, mediaStartMs } });
}

function status(server, who, roomId) {
  return server.request('GET', `/api/uploads/status?roomId=${roomId}`, { token: who.token });
}

function complete(server, who, roomId, chunkCount) {
  return server.request('POST', '/api/uploads/complete', { token: who.token, body: { roomId, chunkCount } });
}

function finalize(server, who, roomId) {
  return server.request('POST', `/api/recordings/${roomId}/finalize`, { token: who.token });
}

/** GET status, checked: resolves { chunks, pending, takeId, takeStatus }. */
async function statusOfCaller(server, who, roomId) {
  const res = await status(server, who, roomId);
  assertJson(res, 200);
  assert.equal(res.body.roomId, roomId);
  assert.ok(Array.isArray(res.body.chunks), `status.chunks: ${res.text}`);
  assert.ok(Array.isArray(res.body.pending), `status.pending: ${res.text}`);
  return res.body;
}

const EXTENSIONS = { 'video/webm': 'webm', 'audio/webm': 'webm', 'video/x-matroska': 'mkv', 'video/mp4': 'mp4', 'audio/mp4': 'mp4' };

/** A 200 presign answer with a URL to upload: every field of the contract. */
function assertPresigned(server, res, { roomId, who, takeId, index, contentType, ttlMs = 15 * 60_000 }) {
  assertJson(res, 200);
  const p = res.body;
  assert.equal(p.stored, false, `presign.stored: ${res.text}`);
  assert.equal(p.method, 'PUT');
  assert.equal(p.chunkIndex, index);
  if (takeId) assert.equal(p.takeId, takeId, 'presign.takeId is the take of recording.started');
  const ext = EXTENSIONS[contentType.split(';')[0].trim().toLowerCase()];
  assert.equal(p.key, `recordings/${roomId}/${who.id}/${p.takeId}/${index}.${ext}`, 'presign.key: the caller\'s own prefix');
  assert.equal(typeof p.headers, 'object');
  assert.equal(p.headers['Content-Type'], contentType, `presign.headers: ${JSON.stringify(p.headers)}`);
  assert.ok(
    p.url.startsWith(`${server.url}/storage/${p.key}?`),
    `a local URL points at PUBLIC_URL/storage/{key}: ${p.url}`,
  );
  const query = new URL(p.url).searchParams;
  for (const name of ['expires', 'size', 'sha256', 'type', 'sig']) assert.ok(query.has(name), `the URL has ${name}: ${p.url}`);
  assert.ok(Number.isInteger(p.expiresAt), `expiresAt is an integer: ${p.expiresAt}`);
  const left = p.expiresAt - Date.now();
  assert.ok(left > ttlMs - 5_000 && left <= ttlMs + 1_000, `expiresAt (epoch ms) is about UPLOAD_URL_TTL ahead: ${left} ms`);
  return p;
}

/** PUTs bytes to a presigned URL the way a browser does: the URL and headers as returned. */
async function putPresigned(presigned, bytes, { headers } = {}) {
  const res = await fetch(presigned.url, { method: presigned.method ?? 'PUT', headers: headers ?? presigned.headers, body: bytes });
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** A /storage answer: this status (and error code). */
function assertStorage(res, status, code) {
  assert.equal(res.status, status, `expected ${status}${code ? ` ${code}` : ''}, got ${res.status} ${String(res.text).slice(0, 300)}`);
  if (code) {
    assert.ok(res.body && typeof res.body.error === 'object', `an error body: ${res.text}`);
    assert.equal(res.body.error.code, code, `expected ${code}, got ${res.text}`);
  }
}

/** presign -> PUT (201) -> confirm (200), all checked. Resolves the presign answer. */
async function uploadChunk(server, who, roomId, index, chunk, { takeId, contentType = 'video/webm', mediaStartMs = Date.now() } = {}) {
  const pres = assertPresigned(server, await presignChunk(server, who, roomId, index, chunk, { contentType, mediaStartMs }), {
    roomId,
    who,
    takeId,
    index,
    contentType,
  });
  const put = await putPresigned(pres, chunk.bytes);
  assertStorage(put, 201);
  assert.deepEqual(put.body, { key: pres.key, size: chunk.bytes.length, sha256: chunk.sha256 }, 'PUT answer');
  const conf = await confirm(server, who, roomId, index, mediaStartMs);
  assertJson(conf, 200);
  assert.deepEqual(conf.body, { stored: true, takeId: pres.takeId, chunkIndex: index, size: chunk.bytes.length }, 'confirm answer');
  return pres;
}

// ---------------------------------------------------------------------------------------------
// The objects folder

const objectsDir = (server) => path.join(server.dataDir, 'objects');
const objectPath = (server, key) => path.join(objectsDir(server), ...key.split('/'));

/** { relativePath: sha256 } of every file under root (dot files included); {} if root is missing. */
async function snapshotTree(root) {
  const files = {};
  async function walk(dir, rel) {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (err.code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(full, relPath);
      else {
        try {
          files[relPath] = sha256(await fs.readFile(full));
        } catch (err) {
          if (err.code !== 'ENOENT') throw err; // a file that went while we looked
        }
      }
    }
  }
  await walk(root, '');
  return files;
}

const snapshotObjects = (server) => snapshotTree(objectsDir(server));

async function assertObjectsUnchanged(server, before, what) {
  assert.deepEqual(await snapshotObjects(server), before, `${what}: the objects folder must not change`);
}

async function readObject(server, key) {
  return fs.readFile(objectPath(server, key));
}

async function exists(file) {
  try {
    await fs.stat(file);
    return true;
  } catch (err) {
    if (err.code === 'ENOENT') return false;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP, for framing fetch will not produce

/** Parses a raw HTTP response: { status, headers (lower-case), text, body (JSON or null) }. */
function parseRaw(raw) {
  const end = raw.indexOf('\r\n\r\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  const text = end < 0 ? '' : raw.slice(end + 4);
  const headers = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: statusOf(raw), headers, text, body };
}

/**
 * One PUT over a raw TCP connection: `target` (path and query, sent exactly as given), the headers
 * as given (nothing added but Host and Connection: close), then the body.
 */
async function rawPut(server, target, headers, body = Buffer.alloc(0)) {
  const head =
    `PUT ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n';
  const { received } = await rawTcp(server.port, Buffer.concat([Buffer.from(head, 'latin1'), body]));
  const res = parseRaw(received);
  assert.notEqual(res.status, null, `no HTTP answer to PUT ${target}: ${JSON.stringify(received.slice(0, 300))}`);
  return res;
}

/** path + query of a URL. */
const targetOf = (url) => {
  const u = new URL(url);
  return u.pathname + u.search;
};

/** The presigned URL with one query parameter replaced (the rest exactly as signed). */
function withQuery(url, name, value) {
  const u = new URL(url);
  const parts = u.search
    .slice(1)
    .split('&')
    .map((kv) => (kv.split('=')[0] === name ? `${name}=${value}` : kv));
  return `${u.pathname}?${parts.join('&')}`;
}

// =============================================================================================
// The full flow

describe('full flow: a host and a guest upload, stop, complete, render queued', () => {
  const ctx = useServer();

  test('3 chunks each (1 B, 300 KB, 5 MB): presign -> PUT -> confirm, status, complete, byte-identical objects', async () => {
    const { server } = ctx;
    const session = await newSession(server, { guests: 1 });
    const [guest] = session.guests;
    const host = session.host;
    const { roomId } = session;

    const started = await startTake(server, session);
    const { takeId } = started;
    const sizes = [1, 300 * 1024, 5 * 1024 * 1024];
    const uploads = [
      { who: host, contentType: 'video/webm', chunks: sizes.map(makeChunk), presigned: [] },
      { who: guest, contentType: 'video/webm;codecs=vp8,opus', chunks: sizes.map(makeChunk), presigned: [] },
    ];

    for (const up of uploads) {
      // chunk 0 step by step, so its pending state can be seen
      const first = assertPresigned(
        server,
        await presignChunk(server, up.who, roomId, 0, up.chunks[0], { contentType: up.contentType, mediaStartMs: started.startAt }),
        { roomId, who: up.who, takeId, index: 0, contentType: up.contentType },
      );
      let st = await statusOfCaller(server, up.who, roomId);
      assert.equal(st.takeId, takeId);
      assert.equal(st.takeStatus, 'recording');
      assert.deepEqual(st.chunks, [], 'nothing stored yet');
      assert.deepEqual(st.pending, [0], 'the presigned chunk is pending');
      const put = await putPresigned(first, up.chunks[0].bytes);
      assertStorage(put, 201);
      assert.deepEqual(put.body, { key: first.key, size: 1, sha256: up.chunks[0].sha256 });
      const conf = await confirm(server, up.who, roomId, 0, started.startAt);
      assertJson(conf, 200);
      assert.deepEqual(conf.body, { stored: true, takeId, chunkIndex: 0, size: 1 });
      up.presigned.push(first);

      for (let i = 1; i < sizes.length; i++) {
        up.presigned.push(
          await uploadChunk(server, up.who, roomId, i, up.chunks[i], {
            takeId,
            contentType: up.contentType,
            mediaStartMs: started.startAt + i * 1000,
          }),
        );
      }
      st = await statusOfCaller(server, up.who, roomId);
      assert.deepEqual(st.chunks, [0, 1, 2], 'status lists the stored chunks, ascending');
      assert.deepEqual(st.pending, []);
    }

    // Each participant's status is their own: the keys are different too.
    assert.notEqual(uploads[0].presigned[0].key, uploads[1].presigned[0].key);

    // Not while recording.
    assertError(await complete(server, host, roomId, 3), 409, 'still_recording');

    await stopTake(session);
    const hostStatus = await statusOfCaller(server, host, roomId);
    assert.equal(hostStatus.takeStatus, 'stopped');

    const hostDone = await complete(server, host, roomId, 3);
    assertJson(hostDone, 200);
    assert.equal(hostDone.body.takeId, takeId);
    assert.equal(hostDone.body.complete, true, `host complete: ${hostDone.text}`);
    assert.equal(hostDone.body.takeComplete, false, 'the guest has not completed yet');
    assert.deepEqual(hostDone.body.missing, []);
    assert.equal(hostDone.body.renderJobId, undefined, 'no render job before everyone completed');

    const guestDone = await complete(server, guest, roomId, 3);
    assertJson(guestDone, 200);
    assert.equal(guestDone.body.takeId, takeId);
    assert.equal(guestDone.body.complete, true, `guest complete: ${guestDone.text}`);
    assert.equal(guestDone.body.takeComplete, true, `the last one completes the take: ${guestDone.text}`);
    assert.deepEqual(guestDone.body.missing, []);
    assert.equal(typeof guestDone.body.renderJobId, 'string', `renderJobId: ${guestDone.text}`);
    assert.ok(guestDone.body.renderJobId.length > 0);

    // Stored bytes are exactly what was sent.
    for (const up of uploads) {
      for (let i = 0; i < sizes.length; i++) {
        const stored = await readObject(server, up.presigned[i].key);
        assert.equal(stored.length, sizes[i], `size of ${up.presigned[i].key}`);
        assert.ok(stored.equals(up.chunks[i].bytes), `${up.presigned[i].key} is byte-identical to what was sent`);
      }
    }

    // The take is complete: uploads are closed.
    assertError(await presignChunk(server, guest, roomId, 3, makeChunk(10)), 409, 'not_recording');
    assertError(await presignChunk(server, host, roomId, 0, uploads[0].chunks[0]), 409, 'not_recording');

    await waitForRecordingStatus(server, host, roomId, 'queued');
  });
});

// =============================================================================================
// Resume

describe('resume: status tells what is missing', () => {
  const ctx = useServer();

  test('chunks 0 and 2 -> status [0,2], complete(3) -> missing [1]; upload 1 -> complete', async () => {
    const { server } = ctx;
    const session = await newSession(server, { guests: 0 });
    const { host } = session;
    const { roomId } = session;
    const { takeId } = await startTake(server, session);
    const chunks = [makeChunk(1000), makeChunk(2000), makeChunk(3000)];

    await uploadChunk(server, host, roomId, 0, chunks[0], { takeId });
    const second = await uploadChunk(server, host, roomId, 2, chunks[2], { takeId });
    let st = await statusOfCaller(server, host, roomId);
    assert.deepEqual(st.chunks, [0, 2]);
    assert.deepEqual(st.pending, []);

    await stopTake(session);
    let done = await complete(server, host, roomId, 3);
    assertJson(done, 200);
    assert.equal(done.body.takeId, takeId);
    assert.equal(done.body.complete, false, `complete with a gap: ${done.text}`);
    assert.equal(done.body.takeComplete, false);
    assert.deepEqual(done.body.missing, [1]);
    assert.equal(done.body.renderJobId, undefined);

    // A stopped take still accepts the missing chunk.
    const first = await uploadChunk(server, host, roomId, 1, chunks[1], { takeId });
    st = await statusOfCaller(server, host, roomId);
    assert.deepEqual(st.chunks, [0, 1, 2]);

    done = await complete(server, host, roomId, 3);
    assertJson(done, 200);
    assert.equal(done.body.complete, true, `complete after the resume: ${done.text}`);
    assert.equal(done.body.takeComplete, true, 'the only participant completed the take');
    assert.deepEqual(done.body.missing, []);
    assert.equal(typeof done.body.renderJobId, 'string');
    assert.ok((await readObject(server, first.key)).equals(chunks[1].bytes));
    assert.ok((await readObject(server, second.key)).equals(chunks[2].bytes));
  });
});

// =============================================================================================
// Repeats

describe('repeat safety: the same chunk again is harmless, another one never replaces it', () => {
  const ctx = useServer();
  let session;
  let takeId;

  before(async () => {
    session = await newSession(ctx.server, { guests: 0 });
    ({ takeId } = await startTake(ctx.server, session));
  });

  test('presign of a stored chunk: same hash -> stored:true; another hash -> 409 conflict, file unchanged', async () => {
    const { server } = ctx;
    const { host, roomId } = session;
    const chunk = makeChunk(4096);
    const pres = await uploadChunk(server, host, roomId, 0, chunk, { takeId });

    const again = await presignChunk(server, host, roomId, 0, chunk);
    assertJson(again, 200);
    assert.deepEqual(again.body, { stored: true, takeId, chunkIndex: 0 }, 'nothing to upload');

    const before = await snapshotObjects(server);
    const other = makeChunk(4096);
    assertError(await presignChunk(server, host, roomId, 0, other), 409, 'conflict');
    // another size with another hash, too
    assertError(await presignChunk(server, host, roomId, 0, makeChunk(10)), 409, 'conflict');
    await assertObjectsUnchanged(server, before, 'presign of a different chunk');
    assert.ok((await readObject(server, pres.key)).equals(chunk.bytes), 'the stored chunk stays');
    const st = await statusOfCaller(server, host, roomId);
    assert.deepEqual(st.chunks, [0]);
    assert.deepEqual(st.pending, []);
    // confirm again is idempotent
    const conf = await confirm(server, host, roomId, 0);
    assertJson(conf, 200);
    assert.deepEqual(conf.body, { stored: true, takeId, chunkIndex: 0, size: 4096 });
  });

  test('PUT the same bytes twice -> 201 then 200; other bytes to that URL -> 400 checksum_mismatch, file unchanged', async () => {
    const { server } = ctx;
    const { host, roomId } = session;
    const chunk = makeChunk(100_000);
    const pres = assertPresigned(server, await presignChunk(server, host, roomId, 1, chunk), {
      roomId, who: host, takeId, index: 1, contentType: 'video/webm',
    });
    const first = await putPresigned(pres, chunk.bytes);
    assertStorage(first, 201);
    const second = await putPresigned(pres, chunk.bytes);
    assertStorage(second, 200);
    assert.deepEqual(second.body, { key: pres.key, size: chunk.bytes.length, sha256: chunk.sha256 });

    const before = await snapshotObjects(server);
    const other = randomBytes(chunk.bytes.length);
    assertStorage(await putPresigned(pres, other), 400, 'checksum_mismatch');
    await assertObjectsUnchanged(server, before, 'PUT of other bytes');
    assert.ok((await readObject(server, pres.key)).equals(chunk.bytes));

    const conf = await confirm(server, host, roomId, 1);
    assertJson(conf, 200);
    assert.equal(conf.body.size, chunk.bytes.length);
  });

  test('a new presign for an unconfirmed chunk with other bytes: PUT -> 409 conflict, confirm -> 409 checksum_mismatch', async () => {
    const { server } = ctx;
    const { host, roomId } = session;
    const a = makeChunk(5000);
    const b = makeChunk(5000);
    const presA = assertPresigned(server, await presignChunk(server, host, roomId, 2, a), {
      roomId, who: host, takeId, index: 2, contentType: 'video/webm',
    });
    assertStorage(await putPresigned(presA, a.bytes), 201);

    // Not confirmed yet, so the chunk may be presigned again, for other bytes.
    const presB = assertPresigned(server, await presignChunk(server, host, roomId, 2, b), {
      roomId, who: host, takeId, index: 2, contentType: 'video/webm',
    });
    assert.equal(presB.key, presA.key);
    const before = await snapshotObjects(server);
    assertStorage(await putPresigned(presB, b.bytes), 409, 'conflict');
    await assertObjectsUnchanged(server, before, 'PUT of different bytes under a stored key');
    assert.ok((await readObject(server, presA.key)).equals(a.bytes), 'the stored bytes are untouched');

    // The presign on record is B's; the stored object is A: the server notices.
    assertError(await confirm(server, host, roomId, 2), 409, 'checksum_mismatch');
    let st = await statusOfCaller(server, host, roomId);
    assert.ok(!st.chunks.includes(2), `a mismatching chunk is not stored: ${JSON.stringify(st)}`);
    assert.ok(st.pending.includes(2));

    // Presign A again: the same bytes are there, PUT is a harmless repeat, confirm works.
    const presA2 = await presignChunk(server, host, roomId, 2, a);
    assertJson(presA2, 200);
    if (presA2.body.stored === false) assertStorage(await putPresigned(presA2.body, a.bytes), 200);
    const conf = await confirm(server, host, roomId, 2);
    assertJson(conf, 200);
    st = await statusOfCaller(server, host, roomId);
    assert.deepEqual(st.chunks, [0, 1, 2]);
  });
});

// =============================================================================================
// Bad input

describe('bad input is refused and stores nothing', () => {
  const ctx = useServer();
  let session; // Alice's, with one guest, recording
  let other; // Bob's session, recording too
  let takeId;

  before(async () => {
    session = await newSession(ctx.server, { guests: 2 });
    ({ takeId } = await startTake(ctx.server, session));
    other = await newSession(ctx.server, { guests: 1, title: 'someone else' });
    await startTake(ctx.server, other);
  });

  /** Runs fn and checks that neither the objects folder nor the host's and guests' status changed. */
  async function nothingChanges(what, fn) {
    const { server } = ctx;
    const members = [session.host, ...session.guests];
    const before = await snapshotObjects(server);
    const statusBefore = await Promise.all(members.map((m) => statusOfCaller(server, m, session.roomId)));
    await fn();
    await assertObjectsUnchanged(server, before, what);
    const statusAfter = await Promise.all(members.map((m) => statusOfCaller(server, m, session.roomId)));
    assert.deepEqual(statusAfter, statusBefore, `${what}: status must not change`);
  }

  /** A presigned URL for a fresh chunk of the host's; its status is pending from here on. */
  async function freshUrl(index, chunk = makeChunk(1000), who = session.host, contentType = 'video/webm') {
    return assertPresigned(ctx.server, await presignChunk(ctx.server, who, session.roomId, index, chunk, { contentType }), {
      roomId: session.roomId, who, takeId, index, contentType,
    });
  }

  test('every upload route wants a token: 401', async () => {
    const { server } = ctx;
    await nothingChanges('no token', async () => {
      const chunk = makeChunk(10);
      const body = { roomId: session.roomId, chunkIndex: 50, size: 10, sha256: chunk.sha256, contentType: 'video/webm' };
      assertError(await server.request('POST', '/api/uploads/presign', { body }), 401, 'unauthorized');
      assertError(await server.request('POST', '/api/uploads/confirm', { body: { roomId: session.roomId, chunkIndex: 0, mediaStartMs: 1 } }), 401, 'unauthorized');
      assertError(await server.request('GET', `/api/uploads/status?roomId=${session.roomId}`), 401, 'unauthorized');
      assertError(await server.request('POST', '/api/uploads/complete', { body: { roomId: session.roomId, chunkCount: 1 } }), 401, 'unauthorized');
      assertError(await server.request('POST', `/api/recordings/${session.roomId}/finalize`), 401, 'unauthorized');
    });
  });

  test('PUT with a Content-Length other than the signed size -> 400 size_mismatch', async () => {
    const { server } = ctx;
    const chunk = makeChunk(1000);
    const pres = await freshUrl(10, chunk);
    await nothingChanges('size mismatch', async () => {
      const shorter = await rawPut(server, targetOf(pres.url), { 'Content-Type': 'video/webm', 'Content-Length': 999 }, chunk.bytes.subarray(0, 999));
      assertStorage(shorter, 400, 'size_mismatch');
    });
    await nothingChanges('a body over the signed size', async () => {
      const longer = Buffer.concat([chunk.bytes, randomBytes(1000)]);
      const res = await rawPut(server, targetOf(pres.url), { 'Content-Type': 'video/webm', 'Content-Length': longer.length }, longer);
      assertStorage(res, 400, 'size_mismatch');
    });
    assertError(await confirm(server, session.host, session.roomId, 10), 404, 'not_uploaded');
    assert.equal(await exists(objectPath(server, pres.key)), false);
  });

  test('PUT of bytes whose SHA-256 is not the signed one -> 400 checksum_mismatch', async () => {
    const { server } = ctx;
    const chunk = makeChunk(2000);
    const pres = await freshUrl(11, chunk);
    await nothingChanges('hash mismatch', async () => {
      assertStorage(await putPresigned(pres, randomBytes(2000)), 400, 'checksum_mismatch');
      const flipped = Buffer.from(chunk.bytes);
      flipped[1999] ^= 1;
      assertStorage(await putPresigned(pres, flipped), 400, 'checksum_mismatch');
    });
    assert.equal(await exists(objectPath(server, pres.key)), false);
    assertError(await confirm(server, session.host, session.roomId, 11), 404, 'not_uploaded');
  });

  test('PUT with a Content-Type other than the signed one -> 415', async () => {
    const { server } = ctx;
    const chunk = makeChunk(1500);
    const pres = await freshUrl(12, chunk);
    await nothingChanges('wrong Content-Type on the PUT', async () => {
      for (const type of ['audio/webm', 'application/octet-stream', 'video/webm;codecs=vp9', 'text/plain']) {
        assertStorage(await putPresigned(pres, chunk.bytes, { headers: { 'Content-Type': type } }), 415, 'unsupported_media_type');
      }
      const none = await rawPut(server, targetOf(pres.url), { 'Content-Length': chunk.bytes.length }, chunk.bytes);
      assertStorage(none, 415, 'unsupported_media_type');
    });
    assert.equal(await exists(objectPath(server, pres.key)), false);
  });

  test('presign with a contentType a recorder does not make -> 415', async () => {
    const { server } = ctx;
    const chunk = makeChunk(100);
    await nothingChanges('wrong contentType on presign', async () => {
      for (const contentType of ['text/plain', 'application/octet-stream', 'video/ogg', 'video/webmx', 'image/png', 'webm']) {
        const res = await presign(server, session.host.token, { roomId: session.roomId, chunkIndex: 13, size: 100, sha256: chunk.sha256, contentType });
        assertError(res, 415, 'unsupported_media_type');
      }
      // A type that could not even go into a header: refused either way (400 or 415).
      const crlf = await presign(server, session.host.token, { roomId: session.roomId, chunkIndex: 13, size: 100, sha256: chunk.sha256, contentType: 'video/webm\r\nX-Evil: 1' });
      if (crlf.status === 400) assertInvalidField(crlf, 'contentType');
      else assertError(crlf, 415, 'unsupported_media_type');
    });
  });

  test('presign: chunkIndex -1 / 100001 / 1.5 / "3" / missing -> 400 invalid_field chunkIndex', async () => {
    const { server } = ctx;
    const chunk = makeChunk(100);
    await nothingChanges('bad chunkIndex', async () => {
      for (const chunkIndex of [-1, 100001, 1.5, '3', null, true]) {
        const res = await presign(server, session.host.token, { roomId: session.roomId, chunkIndex, size: 100, sha256: chunk.sha256, contentType: 'video/webm' });
        assertInvalidField(res, 'chunkIndex');
      }
      const res = await presign(server, session.host.token, { roomId: session.roomId, size: 100, sha256: chunk.sha256, contentType: 'video/webm' });
      assertInvalidField(res, 'chunkIndex');
    });
  });

  test('presign: size 0 / -1 / "10" / 1.5 -> 400 invalid_field size', async () => {
    const { server } = ctx;
    const chunk = makeChunk(100);
    await nothingChanges('bad size', async () => {
      for (const size of [0, -1, '10', 1.5, null]) {
        const res = await presign(server, session.host.token, { roomId: session.roomId, chunkIndex: 14, size, sha256: chunk.sha256, contentType: 'video/webm' });
        assertInvalidField(res, 'size');
      }
    });
  });

  test('presign: sha256 not 64 lowercase hex digits -> 400 invalid_field sha256', async () => {
    const { server } = ctx;
    const good = makeChunk(100).sha256;
    await nothingChanges('bad sha256', async () => {
      for (const hash of [good.toUpperCase(), good.slice(1), `${good}0`, 'g'.repeat(64), `${good.slice(0, 63)} `, '', 42]) {
        const res = await presign(server, session.host.token, { roomId: session.roomId, chunkIndex: 15, size: 100, sha256: hash, contentType: 'video/webm' });
        assertInvalidField(res, 'sha256');
      }
    });
  });

  test('presign and confirm: bad roomId or mediaStartMs -> 400 invalid_field; status without a roomId -> 400', async () => {
    const { server } = ctx;
    const chunk = makeChunk(100);
    await nothingChanges('bad roomId', async () => {
      for (const roomId of ['abc', 42, null, `${session.roomId}x`]) {
        const res = await presign(server, session.host.token, { roomId, chunkIndex: 16, size: 100, sha256: chunk.sha256, contentType: 'video/webm' });
        assertInvalidField(res, 'roomId');
      }
      assertInvalidField(await presign(server, session.host.token, { roomId: session.roomId, chunkIndex: 16, size: 100, sha256: chunk.sha256, contentType: 'video/webm', mediaStartMs: 'soon' }), 'mediaStartMs');
      assertInvalidField(await server.request('POST', '/api/uploads/confirm', { token: session.host.token, body: { roomId: session.roomId, chunkIndex: 0 } }), 'mediaStartMs');
      assertInvalidField(await server.request('GET', '/api/uploads/status', { token: session.host.token }), 'roomId');
      assertInvalidField(await server.request('GET', '/api/uploads/status?roomId=abc', { token: session.host.token }), 'roomId');
      assertInvalidField(await server.request('POST', '/api/uploads/complete', { token: session.host.token, body: { roomId: session.roomId, chunkCount: -1 } }), 'chunkCount');
    });
  });

  test('a URL whose key is moved to another participant\'s prefix -> 403 invalid_signature', async () => {
    const { server } = ctx;
    const [guest] = session.guests;
    const chunk = makeChunk(1200);
    const pres = await freshUrl(17, chunk, guest);
    assert.ok(pres.key.includes(`/${guest.id}/`));
    const hostKey = pres.key.replace(`/${guest.id}/`, `/${session.host.id}/`);
    const tampered = targetOf(pres.url).replace(`/${guest.id}/`, `/${session.host.id}/`);
    assert.ok(tampered.startsWith(`/storage/${hostKey}?`));
    await nothingChanges('another participant\'s prefix', async () => {
      const res = await rawPut(server, tampered, { 'Content-Type': 'video/webm', 'Content-Length': chunk.bytes.length }, chunk.bytes);
      assertStorage(res, 403, 'invalid_signature');
      // another index of the guest's own prefix is another key too
      const otherIndex = targetOf(pres.url).replace('/17.webm?', '/18.webm?');
      assertStorage(await rawPut(server, otherIndex, { 'Content-Type': 'video/webm', 'Content-Length': chunk.bytes.length }, chunk.bytes), 403, 'invalid_signature');
    });
    assert.equal(await exists(objectPath(server, hostKey)), false);
    assert.equal(await exists(objectPath(server, pres.key)), false);
  });

  test('a room the caller is not in -> 403 forbidden (another host, a guest of another room, a removed guest)', async () => {
    const { server } = ctx;
    const chunk = makeChunk(100);
    const body = (roomId) => ({ roomId, chunkIndex: 19, size: 100, sha256: chunk.sha256, contentType: 'video/webm' });
    const otherBefore = await snapshotObjects(server);
    await nothingChanges('another room', async () => {
      // Bob (host of another session) on Alice's room, and Alice on Bob's
      assertError(await presign(server, other.host.token, body(session.roomId)), 403, 'forbidden');
      assertError(await presign(server, session.host.token, body(other.roomId)), 403, 'forbidden');
      // a guest of Alice's room on Bob's room, and Bob's guest on Alice's
      assertError(await presign(server, session.guests[0].token, body(other.roomId)), 403, 'forbidden');
      assertError(await presign(server, other.guests[0].token, body(session.roomId)), 403, 'forbidden');
      // the other routes too
      assertError(await confirm(server, other.host, session.roomId, 0), 403, 'forbidden');
      assertError(await status(server, other.host, session.roomId), 403, 'forbidden');
      assertError(await status(server, session.guests[0], other.roomId), 403, 'forbidden');
      assertError(await complete(server, other.guests[0], session.roomId, 1), 403, 'forbidden');
    });
    await assertObjectsUnchanged(server, otherBefore, 'another room');
    const otherStatus = await statusOfCaller(server, other.host, other.roomId);
    assert.deepEqual(otherStatus.pending, [], 'nothing pending in the other room');
  });

  test('a guest the host removed -> 403 forbidden', async () => {
    const { server } = ctx;
    const removed = session.guests[1];
    const chunk = makeChunk(100);
    const body = { roomId: session.roomId, chunkIndex: 20, size: 100, sha256: chunk.sha256, contentType: 'video/webm' };
    assertPresigned(server, await presign(server, removed.token, body), { roomId: session.roomId, who: removed, takeId, index: 20, contentType: 'video/webm' });
    session.ws.send({ type: 'remove', participantId: removed.id });
    const res = await waitFor(
      async () => {
        const r = await presign(server, removed.token, body);
        return r.status === 200 ? null : r;
      },
      { timeoutMs: 5_000, what: 'presign by a removed guest to be refused' },
    );
    assertError(res, 403, 'forbidden');
    assertError(await status(server, removed, session.roomId), 403, 'forbidden');
    session.guests.pop(); // no longer a member whose status nothingChanges() can read
  });

  test('tampered query (size, sha256, type, expires, sig, missing sig) -> 403; the genuine URL still works', async () => {
    const { server } = ctx;
    const chunk = makeChunk(3000);
    const pres = await freshUrl(21, chunk);
    const q = new URL(pres.url).searchParams;
    const bigger = Buffer.concat([chunk.bytes, Buffer.from('x')]);
    const otherBytes = randomBytes(3000);
    const flip = (hex) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
    const cases = [
      ['size', withQuery(pres.url, 'size', String(Number(q.get('size')) + 1)), 'video/webm', bigger],
      ['sha256', withQuery(pres.url, 'sha256', sha256(otherBytes)), 'video/webm', otherBytes],
      ['type', withQuery(pres.url, 'type', 'audio%2Fwebm'), 'audio/webm', chunk.bytes],
      ['expires', withQuery(pres.url, 'expires', String(Number(q.get('expires')) + 3600)), 'video/webm', chunk.bytes],
      ['sig', withQuery(pres.url, 'sig', flip(q.get('sig'))), 'video/webm', chunk.bytes],
      ['sig missing', targetOf(pres.url).replace(/&sig=[^&]*/, ''), 'video/webm', chunk.bytes],
      ['sig empty', withQuery(pres.url, 'sig', ''), 'video/webm', chunk.bytes],
    ];
    await nothingChanges('tampered query', async () => {
      for (const [what, target, type, bytes] of cases) {
        assert.notEqual(target, targetOf(pres.url), `${what}: the URL was changed`);
        const res = await rawPut(server, target, { 'Content-Type': type, 'Content-Length': bytes.length }, bytes);
        assert.equal(res.status, 403, `tampered ${what}: expected 403, got ${res.status} ${res.text}`);
        assert.equal(res.body?.error?.code, 'invalid_signature', `tampered ${what}: ${res.text}`);
      }
    });
    // the refusals were about the tampering: the URL as signed works
    assertStorage(await putPresigned(pres, chunk.bytes), 201);
    assert.ok((await readObject(server, pres.key)).equals(chunk.bytes));
  });

  test('path traversal in the key -> 403/404, nothing written inside or outside the objects folder', async () => {
    const { server } = ctx;
    const chunk = makeChunk(700);
    const pres = await freshUrl(22, chunk);
    const query = new URL(pres.url).search;
    const marker = `zc-escape-${randomBytes(6).toString('hex')}`;
    const treeBefore = await snapshotTree(server.tmpDir);
    // Paths that are still under /storage/ once their dot segments are removed (RFC 3986 5.2.4)
    // must be refused as storage URLs: 403 (bad signature) or 404.
    const underStorage = [
      `/storage/recordings/../${marker}.webm${query}`,
      `/storage/recordings/%2e%2e/${marker}.webm${query}`,
      `/storage/${pres.key.replace(/\/22\.webm$/, `/../../../${marker}.webm`)}${query}`,
      `/storage/${pres.key.replace(/\/22\.webm$/, '/../22.webm')}${query}`,
      `/storage/${pres.key.replace(/\/22\.webm$/, '/%2e%2e/22.webm')}${query}`,
      `/storage/${pres.key}/..${query}`,
    ];
    // Paths that climb above /storage/ are not storage URLs at all; whatever answers them
    // (403, 404, or 405 from the static files, which take no PUT) must not write anything.
    // The server decodes %2f to '/' before it resolves dot segments, so the %2f forms climb too.
    const aboveStorage = [
      `/storage/recordings/..%2f..%2f${marker}.webm${query}`,
      `/storage/recordings/%2e%2e%2f%2e%2e%2f${marker}.webm${query}`,
      `/storage/recordings/../../../${marker}.webm${query}`,
      `/storage/../../${marker}.webm${query}`,
      `/storage/%2e%2e/%2e%2e/%2e%2e/${marker}.webm${query}`,
    ];
    const answers = [];
    await nothingChanges('path traversal', async () => {
      for (const target of [...underStorage, ...aboveStorage]) {
        const res = await rawPut(server, target, { 'Content-Type': 'video/webm', 'Content-Length': chunk.bytes.length }, chunk.bytes);
        answers.push({ target, status: res.status, text: res.text.slice(0, 120) });
      }
    });
    for (const a of answers.slice(0, underStorage.length)) {
      assert.ok([403, 404].includes(a.status), `PUT ${a.target}: expected 403 or 404, got ${a.status} ${a.text}`);
    }
    for (const a of answers.slice(underStorage.length)) {
      assert.ok([403, 404, 405].includes(a.status), `PUT ${a.target}: expected a refusal, got ${a.status} ${a.text}`);
    }
    const treeAfter = await snapshotTree(server.tmpDir);
    const added = Object.keys(treeAfter).filter((f) => !(f in treeBefore) && !/\.db(-wal|-shm|-journal)?$/.test(f));
    assert.deepEqual(added, [], 'no file appeared anywhere under the server\'s folder');
    for (const dir of [os.tmpdir(), path.dirname(server.tmpDir), server.tmpDir, server.dataDir, objectsDir(server)]) {
      assert.equal(await exists(path.join(dir, `${marker}.webm`)), false, `nothing written to ${dir}`);
    }
    assert.equal(await exists(objectPath(server, pres.key)), false);
  });

  test('PUT without Content-Length, or with Transfer-Encoding: chunked -> 411', async () => {
    const { server } = ctx;
    const chunk = makeChunk(800);
    const pres = await freshUrl(23, chunk);
    await nothingChanges('no Content-Length', async () => {
      // node:http sends a body without Content-Length as chunked
      const chunked = await rawHttp({
        port: server.port,
        method: 'PUT',
        path: targetOf(pres.url),
        headers: { 'Content-Type': 'video/webm' },
        chunks: [chunk.bytes.subarray(0, 400), chunk.bytes.subarray(400)],
      });
      assert.equal(chunked.status, 411, `chunked: ${chunked.status} ${chunked.text}`);
      assert.equal(JSON.parse(chunked.text).error.code, 'length_required');
      // no Content-Length and no body at all
      const none = await rawPut(server, targetOf(pres.url), { 'Content-Type': 'video/webm' });
      assertStorage(none, 411, 'length_required');
    });
    assert.equal(await exists(objectPath(server, pres.key)), false);
  });

  test('confirm of a chunk never presigned -> 404 not_found; presigned but never uploaded -> 404 not_uploaded', async () => {
    const { server } = ctx;
    await nothingChanges('confirm without upload', async () => {
      assertError(await confirm(server, session.host, session.roomId, 99_999), 404, 'not_found');
    });
    const pres = await freshUrl(24, makeChunk(10));
    await nothingChanges('confirm of a chunk not uploaded', async () => {
      assertError(await confirm(server, session.host, session.roomId, 24), 404, 'not_uploaded');
      // a guest's confirm for the host's chunk index finds no presign of its own
      assertError(await confirm(server, session.guests[0], session.roomId, 24), 404, 'not_found');
    });
    assert.equal(await exists(objectPath(server, pres.key)), false);
    const st = await statusOfCaller(server, session.host, session.roomId);
    assert.ok(st.pending.includes(24) && !st.chunks.includes(24), `still pending: ${JSON.stringify(st)}`);
  });

  test('presign before any take -> 409 not_recording', async () => {
    const { server } = ctx;
    const idle = await newSession(server, { guests: 1, title: 'never recorded' });
    const before = await snapshotObjects(server);
    const chunk = makeChunk(100);
    assertError(await presignChunk(server, idle.host, idle.roomId, 0, chunk), 409, 'not_recording');
    assertError(await presignChunk(server, idle.guests[0], idle.roomId, 0, chunk), 409, 'not_recording');
    await assertObjectsUnchanged(server, before, 'presign before a take');
  });

  test('complete while recording -> 409 still_recording', async () => {
    const { server } = ctx;
    await nothingChanges('complete while recording', async () => {
      assertError(await complete(server, session.host, session.roomId, 1), 409, 'still_recording');
      assertError(await complete(server, session.guests[0], session.roomId, 0), 409, 'still_recording');
    });
  });

  test('boundaries that are allowed: chunkIndex 0 and 100000, codecs parameters', async () => {
    const { server } = ctx;
    const chunk = makeChunk(64);
    const top = await freshUrl(100000, chunk);
    assert.ok(top.key.endsWith('/100000.webm'));
    for (const [type, ext] of [['audio/webm;codecs=opus', 'webm'], ['video/x-matroska', 'mkv'], ['video/mp4;codecs="avc1.42E01E,mp4a.40.2"', 'mp4'], ['audio/mp4', 'mp4']]) {
      const res = await presign(server, session.guests[0].token, { roomId: session.roomId, chunkIndex: 30, size: 64, sha256: chunk.sha256, contentType: type });
      if (res.status !== 200) {
        // a quoted codecs list may be refused as an unsupported type; the plain ones may not
        assert.ok(type.includes('"'), `presign ${type}: ${res.status} ${res.text}`);
        assertError(res, 415, 'unsupported_media_type');
        continue;
      }
      const p = assertPresigned(server, res, { roomId: session.roomId, who: session.guests[0], takeId, index: 30, contentType: type });
      assert.ok(p.key.endsWith(`/30.${ext}`), `${type} -> .${ext}: ${p.key}`);
    }
  });
});

describe('MAX_CHUNK_BYTES', () => {
  const ctx = useServer({ MAX_CHUNK_BYTES: '1048576' });

  test('size over MAX_CHUNK_BYTES -> 400 invalid_field size; exactly the limit uploads', async () => {
    const { server } = ctx;
    const session = await newSession(server, { guests: 0 });
    const { takeId } = await startTake(server, session);
    const big = makeChunk(1024 * 1024);
    const before = await snapshotObjects(server);
    for (const size of [1024 * 1024 + 1, 64 * 1024 * 1024, 2 ** 40]) {
      const res = await presign(server, session.host.token, { roomId: session.roomId, chunkIndex: 0, size, sha256: big.sha256, contentType: 'video/webm' });
      assertInvalidField(res, 'size');
    }
    await assertObjectsUnchanged(server, before, 'size over the limit');
    const st = await statusOfCaller(server, session.host, session.roomId);
    assert.deepEqual(st.pending, []);
    assert.deepEqual(st.chunks, []);
    const pres = await uploadChunk(server, session.host, session.roomId, 0, big, { takeId });
    assert.ok((await readObject(server, pres.key)).equals(big.bytes));
  });
});

describe('UPLOAD_URL_TTL: an expired URL', () => {
  const ctx = useServer({ UPLOAD_URL_TTL: '1s' });

  test('PUT after expiresAt -> 403 url_expired, nothing stored', async () => {
    const { server } = ctx;
    const session = await newSession(server, { guests: 0 });
    const { takeId } = await startTake(server, session);
    const chunk = makeChunk(1000);
    const pres = assertPresigned(server, await presignChunk(server, session.host, session.roomId, 0, chunk), {
      roomId: session.roomId, who: session.host, takeId, index: 0, contentType: 'video/webm', ttlMs: 1000,
    });
    const before = await snapshotObjects(server);
    await clockPast(pres.expiresAt); // Date.now() > expiresAt
    assertStorage(await putPresigned(pres, chunk.bytes), 403, 'url_expired');
    await assertObjectsUnchanged(server, before, 'expired URL');
    assert.equal(await exists(objectPath(server, pres.key)), false);
    assertError(await confirm(server, session.host, session.roomId, 0), 404, 'not_uploaded');
    // a new presign gives a fresh URL that works
    const again = assertPresigned(server, await presignChunk(server, session.host, session.roomId, 0, chunk), {
      roomId: session.roomId, who: session.host, takeId, index: 0, contentType: 'video/webm', ttlMs: 1000,
    });
    assertStorage(await putPresigned(again, chunk.bytes), 201);
  });
});

// =============================================================================================
// A connection cut half-way

describe('a connection cut half-way through a PUT', () => {
  const ctx = useServer();

  test('stores nothing, leaves no partial file, the server keeps serving, a full PUT then works', async () => {
    const { server } = ctx;
    const session = await newSession(server, { guests: 0 });
    const { takeId } = await startTake(server, session);
    const chunk = makeChunk(4 * 1024 * 1024);
    const pres = assertPresigned(server, await presignChunk(server, session.host, session.roomId, 0, chunk), {
      roomId: session.roomId, who: session.host, takeId, index: 0, contentType: 'video/webm',
    });
    const before = await snapshotObjects(server);

    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {}); // a reset after destroy() is expected
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const head =
      `PUT ${targetOf(pres.url)} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n` +
      `Content-Type: video/webm\r\nContent-Length: ${chunk.bytes.length}\r\n\r\n`;
    let answered = '';
    socket.on('data', (d) => (answered += d.toString('latin1')));
    await new Promise((resolve) => socket.write(head, resolve));
    await new Promise((resolve) => socket.write(chunk.bytes.subarray(0, chunk.bytes.length / 2), resolve));
    // Give the server the chance to have started writing the half (a partial file may appear);
    // it is not required that one does, so this wait does not fail the test.
    await waitFor(async () => Object.keys(await snapshotObjects(server)).length > Object.keys(before).length, {
      timeoutMs: 3_000,
      what: 'a partial file',
    }).catch(() => null);
    assert.equal(answered, '', `the server must not answer a half body: ${answered.slice(0, 200)}`);
    socket.destroy();

    // The partial file goes; nothing is stored at the key.
    await waitFor(async () => JSON.stringify(await snapshotObjects(server)) === JSON.stringify(before), {
      timeoutMs: 10_000,
      what: 'the objects folder to be as before the cut PUT (no partial file left)',
    });
    assert.equal(await exists(objectPath(server, pres.key)), false, 'nothing at the key');
    const keyDir = path.dirname(objectPath(server, pres.key));
    const listing = await fs.readdir(keyDir).catch((err) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
    assert.deepEqual(listing, [], `no leftover file in the key's folder: ${JSON.stringify(listing)}`);

    const health = await server.request('GET', '/healthz');
    assert.equal(health.status, 200, 'the server still answers');
    assertError(await confirm(server, session.host, session.roomId, 0), 404, 'not_uploaded');

    const put = await putPresigned(pres, chunk.bytes);
    assertStorage(put, 201);
    const conf = await confirm(server, session.host, session.roomId, 0);
    assertJson(conf, 200);
    assert.ok((await readObject(server, pres.key)).equals(chunk.bytes), 'the full PUT stored the whole chunk');
    assert.deepEqual(await fs.readdir(keyDir), ['0.webm']);
  });
});

// =============================================================================================
// Restart between PUT and confirm

describe('a server restart between the PUT and the confirm', () => {
  let dataDir;
  let database;
  let first;
  let second;

  before(async () => {
    dataDir = await makeTempDir('zencast-uploads-restart-');
    database = await createTestDatabase(); // null without TEST_DATABASE_URL: SQLite in DATA_DIR
  });

  after(async () => {
    await closeAllClients();
    try {
      if (first && !first.hasExited()) await first.stop();
      if (second && !second.hasExited()) await second.stop();
    } finally {
      await database?.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  test('loses nothing: confirm on the new server succeeds and status lists the chunk', async () => {
    first = await startUploadServer({}, { dataDir, database });
    const session = await newSession(first, { guests: 1 });
    const [guest] = session.guests;
    const { takeId } = await startTake(first, session);
    const chunk = makeChunk(200_000);
    const pres = assertPresigned(first, await presignChunk(first, guest, session.roomId, 0, chunk), {
      roomId: session.roomId, who: guest, takeId, index: 0, contentType: 'video/webm',
    });
    assertStorage(await putPresigned(pres, chunk.bytes), 201);
    await closeAllClients();
    await stopAndCheck(first);

    second = await startUploadServer({}, { dataDir, database });
    const conf = await confirm(second, guest, session.roomId, 0);
    assertJson(conf, 200);
    assert.deepEqual(conf.body, { stored: true, takeId, chunkIndex: 0, size: chunk.bytes.length });
    const st = await statusOfCaller(second, guest, session.roomId);
    assert.equal(st.takeId, takeId);
    assert.deepEqual(st.chunks, [0]);
    assert.deepEqual(st.pending, []);
    assert.ok((await readObject(second, pres.key)).equals(chunk.bytes));
    await stopAndCheck(second);
  });
});

// =============================================================================================
// Finalize

describe('finalize: the host renders without a guest who never completed', () => {
  const ctx = useServer({ UPLOAD_GRACE: '2s' });

  test('409 grace_period with Retry-After, then 200 takeComplete with a renderJobId; guests may not', async () => {
    const { server } = ctx;
    const session = await newSession(server, { guests: 1 });
    const [guest] = session.guests;
    const { host, roomId } = session;

    const { takeId } = await startTake(server, session);
    assertError(await finalize(server, host, roomId), 409, 'still_recording');

    await uploadChunk(server, host, roomId, 0, makeChunk(500), { takeId });
    await uploadChunk(server, guest, roomId, 0, makeChunk(600), { takeId });
    await uploadChunk(server, guest, roomId, 1, makeChunk(700), { takeId });

    const { stopAt } = await stopTake(session);
    const hostDone = await complete(server, host, roomId, 1);
    assertJson(hostDone, 200);
    assert.equal(hostDone.body.complete, true);
    assert.equal(hostDone.body.takeComplete, false, `the guest has chunks and never completed: ${hostDone.text}`);

    const early = await finalize(server, host, roomId);
    assert.ok(Date.now() < stopAt + 2000, 'this finalize was inside UPLOAD_GRACE (the test was too slow otherwise)');
    assertError(early, 409, 'grace_period');
    const retryAfter = early.headers.get('retry-after');
    assert.match(retryAfter ?? '', /^\d+$/, `Retry-After in seconds: ${retryAfter}`);
    assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 3, `Retry-After within the grace: ${retryAfter}`);

    assertError(await finalize(server, guest, roomId), 403, 'forbidden');

    await clockPast(stopAt + 2000); // the grace period is over
    assertError(await finalize(server, guest, roomId), 403, 'forbidden');
    const done = await finalize(server, host, roomId);
    assertJson(done, 200);
    assert.equal(done.body.takeId, takeId, `finalize: ${done.text}`);
    assert.equal(done.body.takeComplete, true, `finalize: ${done.text}`);
    assert.equal(typeof done.body.renderJobId, 'string', `finalize renderJobId: ${done.text}`);
    assert.ok(done.body.renderJobId.length > 0);

    assertError(await finalize(server, host, roomId), 409, 'already_complete');
    assertError(await presignChunk(server, guest, roomId, 2, makeChunk(10)), 409, 'not_recording');
    await waitForRecordingStatus(server, host, roomId, 'queued');
  });

  test('finalize of another user\'s session, or of no session -> 404 not_found', async () => {
    const { server } = ctx;
    const session = await newSession(server, { guests: 0 });
    const stranger = await registerUser(server, { email: uniqueEmail('up-stranger') });
    await startTake(server, session);
    await uploadChunk(server, session.host, session.roomId, 0, makeChunk(100));
    const { stopAt } = await stopTake(session);
    await clockPast(stopAt + 2000); // past the grace, so only the ownership decides
    assertError(await finalize(server, { token: stranger.accessToken }, session.roomId), 404, 'not_found');
    assertError(await finalize(server, session.host, randomUUID()), 404, 'not_found');
    assertError(await finalize(server, session.host, 'not-a-uuid'), 404, 'not_found');
    // the refusals changed nothing: the owner can still finalize
    const done = await finalize(server, session.host, session.roomId);
    assertJson(done, 200);
    assert.equal(done.body.takeComplete, true);
  });
});

// ---------------------------------------------------------------------------------------------
// The same flow on S3 (a real s3rver started by scripts/test.sh): presigned URLs point at the
// bucket, the browser PUTs straight to it, the server confirms by reading the object back.

const s3Skip = !process.env.TEST_S3_ENDPOINT && 'needs TEST_S3_ENDPOINT (an s3rver started by scripts/test.sh)';

describe('uploads to S3 (s3rver)', { skip: s3Skip }, () => {
  const s = useServer({
    AWS_S3_BUCKET: process.env.TEST_S3_BUCKET || 'zencast-test',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_S3_ENDPOINT: process.env.TEST_S3_ENDPOINT,
  });

  test('presign -> PUT to the bucket -> confirm -> status -> complete queues the render', async () => {
    const server = s.server;
    const session = await newSession(server, { guests: 1 });
    const guest = session.guests[0];
    const started = await startTake(server, session);
    const chunks = [makeChunk(1), makeChunk(300_000), makeChunk(2_000_000)];
    for (const who of [session.host, guest]) {
      for (const [index, chunk] of chunks.entries()) {
        const res = await presignChunk(server, who, session.roomId, index, chunk);
        assertJson(res, 200);
        const p = res.body;
        assert.equal(p.takeId, started.takeId);
        assert.equal(p.key, `recordings/${session.roomId}/${who.id}/${p.takeId}/${index}.webm`);
        assert.ok(p.url.startsWith(`${process.env.TEST_S3_ENDPOINT}/`), `the URL points at the bucket: ${p.url}`);
        assert.match(p.url, /X-Amz-Signature=[0-9a-f]{64}/);
        assert.ok(p.headers['x-amz-checksum-sha256'], `the checksum is bound: ${JSON.stringify(p.headers)}`);
        const put = await putPresigned(p, chunk.bytes);
        assert.equal(put.status, 200, `PUT to s3rver: ${put.status} ${put.text.slice(0, 200)}`);
        const conf = await confirm(server, who, session.roomId, index);
        assertJson(conf, 200);
        assert.equal(conf.body.size, chunk.bytes.length);
      }
    }
    const st = await status(server, guest, session.roomId);
    assertJson(st, 200);
    assert.deepEqual(st.body.chunks, [0, 1, 2]);

    // Confirm refuses what is not in the bucket, and a different object under a presigned key.
    const missing = makeChunk(10);
    assertJson(await presignChunk(server, guest, session.roomId, 3, missing), 200);
    assertError(await confirm(server, guest, session.roomId, 3), 404, 'not_uploaded');

    await stopTake(session);
    const first = await complete(server, session.host, session.roomId, 3);
    assertJson(first, 200);
    assert.equal(first.body.takeComplete, false, 'the guest has not completed yet');
    const last = await complete(server, guest, session.roomId, 3);
    assertJson(last, 200);
    assert.equal(last.body.takeComplete, true, `everyone complete: ${last.text}`);
    assert.match(last.body.renderJobId, UUID_RE);
    await waitForRecordingStatus(server, session.host, session.roomId, 'queued');
  });
});
