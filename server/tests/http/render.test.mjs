// Rendering (issue 5): a take recorded by a host and a guest, uploaded in chunks cut at
// arbitrary byte offsets, becomes final.mp4 through the render worker; and a worker killed
// mid-render leaves a job that another worker finishes, once.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { assertJson, stopAndCheck } from './lib/expect.mjs';
import { ZENCAST_BIN, freePort, makeTempDir, registerUser, startServer, uniqueEmail, waitFor } from './lib/server.mjs';
import { closeAllClients, joinAs } from './lib/ws.mjs';

const run = promisify(execFile);
const MEDIA_SECONDS = 6;

async function haveFfmpeg() {
  try {
    const { stdout } = await run('ffmpeg', ['-hide_banner', '-encoders']);
    await run('ffprobe', ['-version']);
    return stdout.includes('libvpx') ? true : 'ffmpeg has no libvpx encoder';
  } catch {
    return 'needs ffmpeg and ffprobe (apt-get install ffmpeg)';
  }
}
const ffmpeg = await haveFfmpeg();
const skip = ffmpeg === true ? false : ffmpeg;

/** A WebM (VP8 + Opus) of one colour with a tone, like a browser's recording. */
async function makeTrack(dir, name, colour, frequency) {
  const file = path.join(dir, `${name}.webm`);
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=${colour}:s=320x240:r=30:d=${MEDIA_SECONDS}`,
    '-f', 'lavfi', '-i', `sine=f=${frequency}:d=${MEDIA_SECONDS}:sample_rate=48000`, '-c:v', 'libvpx', '-deadline', 'realtime',
    '-cpu-used', '8', '-b:v', '300k', '-c:a', 'libopus', '-shortest', file]);
  return fs.readFile(file);
}

/** Cuts bytes at arbitrary offsets into n chunks, the way MediaRecorder's timeslices fall. */
function cut(bytes, n) {
  const chunks = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const end = i === n - 1 ? bytes.length : Math.floor((bytes.length * (i + 1)) / n) + 137 * i;
    chunks.push(bytes.subarray(at, end));
    at = end;
  }
  return chunks;
}

async function uploadTrack(server, token, roomId, chunks, startMs) {
  for (const [index, bytes] of chunks.entries()) {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const pres = await server.request('POST', '/api/uploads/presign', {
      token, body: { roomId, chunkIndex: index, size: bytes.length, sha256, contentType: 'video/webm;codecs=vp8,opus' },
    });
    assertJson(pres, 200);
    const put = await fetch(pres.body.url, { method: 'PUT', headers: pres.body.headers, body: bytes });
    assert.ok(put.status === 201 || put.status === 200, `PUT chunk ${index}: ${put.status}`);
    const conf = await server.request('POST', '/api/uploads/confirm', {
      token, body: { roomId, chunkIndex: index, mediaStartMs: startMs + index * 2000 },
    });
    assertJson(conf, 200);
  }
}

/** Host + guest record a take and upload; resolves {session, take} once the render job is queued. */
async function recordTake(server, dir) {
  const host = await registerUser(server, { email: uniqueEmail('render-host'), name: 'Ada' });
  const created = await server.request('POST', '/api/recordings', { token: host.accessToken, body: { title: 'Render' } });
  assertJson(created, 201);
  const rec = created.body.recording;
  const joined = await server.request('POST', `/api/rooms/${rec.roomId}/join`, { body: { inviteToken: rec.inviteToken, name: 'Grace' } });
  assertJson(joined, 201);
  const { ws } = await joinAs(server, { token: host.accessToken, roomId: rec.roomId });
  ws.send({ type: 'recording.start' });
  const started = await ws.next('recording.started');
  const [red, blue] = await Promise.all([makeTrack(dir, 'red', 'red', 440), makeTrack(dir, 'blue', 'blue', 880)]);
  await uploadTrack(server, host.accessToken, rec.roomId, cut(red, 3), started.startAt);
  await uploadTrack(server, joined.body.participantToken, rec.roomId, cut(blue, 4), started.startAt + 1000);
  // The take lasts as long as the media: stop once the server's clock has passed it.
  await waitFor(() => Date.now() > started.startAt + MEDIA_SECONDS * 1000, { timeoutMs: 20_000, what: 'the take to last' });
  ws.send({ type: 'recording.stop' });
  const stopped = await ws.next('recording.stopped');
  await ws.close();
  assertJson(await server.request('POST', '/api/uploads/complete', { token: host.accessToken, body: { roomId: rec.roomId, chunkCount: 3 } }), 200);
  const done = await server.request('POST', '/api/uploads/complete', {
    token: joined.body.participantToken, body: { roomId: rec.roomId, chunkCount: 4 },
  });
  assertJson(done, 200);
  assert.equal(done.body.takeComplete, true, done.text);
  return { host, rec, durationMs: stopped.stopAt - started.startAt };
}

async function waitForRender(server, host, roomId, timeoutMs) {
  let last = null;
  await waitFor(async () => {
    last = await server.request('GET', `/api/recordings/${roomId}`, { token: host.accessToken });
    return ['ready', 'failed'].includes(last.body?.recording?.status);
  }, { timeoutMs, intervalMs: 250, what: 'the render to end' });
  assert.equal(last.body.recording.status, 'ready', `render: ${JSON.stringify(last.body.recording.render)}\n${server.log().slice(-3000)}`);
  return last.body.recording;
}

async function checkFinal(recording, dir, durationMs) {
  assert.ok(recording.downloads?.final, `download links: ${JSON.stringify(recording.downloads)}`);
  const res = await fetch(recording.downloads.final);
  assert.equal(res.status, 200);
  const file = path.join(dir, 'final.mp4');
  await fs.writeFile(file, Buffer.from(await res.arrayBuffer()));
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height,sample_rate:format=duration', '-of', 'json', file]);
  const probe = JSON.parse(stdout);
  const video = probe.streams.find((s) => s.codec_name === 'h264');
  const audio = probe.streams.find((s) => s.codec_name === 'aac');
  assert.ok(video && audio, `h264 + aac: ${stdout}`);
  assert.equal(audio.sample_rate, '48000');
  const seconds = Number(probe.format.duration);
  assert.ok(Math.abs(seconds - durationMs / 1000) < 0.1, `duration ${seconds}s for a ${durationMs} ms take`);
  const decode = await run('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
  assert.equal(decode.stderr.trim(), '', 'decodes without errors');
}

describe('render: the embedded worker turns a take into final.mp4', { skip }, () => {
  let server = null;
  after(async () => {
    await closeAllClients();
    await stopAndCheck(server);
  });

  test('two participants, chunks cut mid-frame, one joining late', { timeout: 240_000 }, async () => {
    const port = await freePort();
    server = await startServer({ port, env: { RENDER_WORKER: 'on', RENDER_POLL: '1s', RECORDING_COUNTDOWN: '1s', PUBLIC_URL: `http://127.0.0.1:${port}` } });
    const dir = await makeTempDir('zencast-render-');
    const { host, rec, durationMs } = await recordTake(server, dir);
    const recording = await waitForRender(server, host, rec.roomId, 180_000);
    assert.equal(recording.render.status, 'done');
    assert.equal(recording.render.progress, 100);
    await checkFinal(recording, dir, durationMs);
    await fs.rm(dir, { recursive: true, force: true });
  });
});

describe('render: a worker killed mid-render', { skip }, () => {
  let server = null;
  const workers = [];
  after(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await closeAllClients();
    await stopAndCheck(server);
  });

  test('another worker finishes the job, once', { timeout: 240_000 }, async () => {
    const port = await freePort();
    server = await startServer({ port, env: { RECORDING_COUNTDOWN: '1s', PUBLIC_URL: `http://127.0.0.1:${port}` } });
    const logs = [];
    for (let i = 0; i < 2; i++) {
      const child = spawn(ZENCAST_BIN, ['worker'], {
        env: { ...server.env, RENDER_POLL: '1s', RENDER_LEASE: '4s' }, cwd: server.tmpDir, stdio: ['ignore', 'ignore', 'pipe'],
      });
      logs[i] = '';
      child.stderr.setEncoding('utf8').on('data', (d) => (logs[i] += d));
      workers.push(child);
    }
    const dir = await makeTempDir('zencast-render-');
    const { host, rec, durationMs } = await recordTake(server, dir);
    // Kill whichever worker claims the job, as soon as it has.
    let killed = -1;
    await waitFor(() => {
      killed = logs.findIndex((l) => /claimed job/.test(l));
      return killed >= 0;
    }, { timeoutMs: 30_000, what: 'a worker to claim the job' });
    workers[killed].kill('SIGKILL');
    const recording = await waitForRender(server, host, rec.roomId, 180_000);
    assert.equal(recording.render.status, 'done');
    assert.equal(recording.render.attempts, 2, 'the second attempt, by the other worker, finished it');
    assert.match(logs[1 - killed], /claimed job .* \(attempt 2\)/);
    assert.match(logs[1 - killed], /job .* done/);
    await checkFinal(recording, dir, durationMs);
    for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
    await fs.rm(dir, { recursive: true, force: true });
  });
});
