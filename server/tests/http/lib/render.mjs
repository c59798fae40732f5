// What the render tests share: media made with ffmpeg, a recorded and uploaded take, render
// workers as separate processes, waiting for a render and probing what it made.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import { assertJson } from './expect.mjs';
import { ZENCAST_BIN, registerUser, uniqueEmail, waitFor } from './server.mjs';
import { joinAs } from './ws.mjs';

const run = promisify(execFile);
export const MEDIA_SECONDS = 6;

/** true, or why the render tests must be skipped. */
export async function haveFfmpeg() {
  try {
    const { stdout } = await run('ffmpeg', ['-hide_banner', '-encoders']);
    await run('ffprobe', ['-version']);
    return stdout.includes('libvpx') ? true : 'ffmpeg has no libvpx encoder';
  } catch {
    return 'needs ffmpeg and ffprobe (apt-get install ffmpeg)';
  }
}

/** A WebM (VP8 + Opus) of one colour with a tone, like a browser's recording. */
export async function makeTrack(dir, name, colour, frequency) {
  const file = path.join(dir, `${name}.webm`);
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=${colour}:s=320x240:r=30:d=${MEDIA_SECONDS}`,
    '-f', 'lavfi', '-i', `sine=f=${frequency}:d=${MEDIA_SECONDS}:sample_rate=48000`, '-c:v', 'libvpx', '-deadline', 'realtime',
    '-cpu-used', '8', '-b:v', '300k', '-c:a', 'libopus', '-shortest', file]);
  return fs.readFile(file);
}

/** Cuts bytes at arbitrary offsets into n chunks, the way MediaRecorder's timeslices fall. */
export function cut(bytes, n) {
  const chunks = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const end = i === n - 1 ? bytes.length : Math.floor((bytes.length * (i + 1)) / n) + 137 * i;
    chunks.push(bytes.subarray(at, end));
    at = end;
  }
  return chunks;
}

/** Presigns, PUTs and confirms each chunk as the owner of token. */
export async function uploadTrack(server, token, roomId, chunks, startMs) {
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

/** Host + guest record a take and upload; resolves {host, rec, durationMs} once the render job is queued. */
export async function recordTake(server, dir) {
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

/** Resolves the recording once its status is ready (asserted) or failed. */
export async function waitForRender(server, host, roomId, timeoutMs) {
  let last = null;
  await waitFor(async () => {
    last = await server.request('GET', `/api/recordings/${roomId}`, { token: host.accessToken });
    return ['ready', 'failed'].includes(last.body?.recording?.status);
  }, { timeoutMs, intervalMs: 250, what: 'the render to end' });
  assert.equal(last.body.recording.status, 'ready', `render: ${JSON.stringify(last.body.recording.render)}\n${server.log().slice(-3000)}`);
  return last.body.recording;
}

/** Downloads the recording's final.mp4 into dir; resolves its path and ffprobe's streams and format. */
export async function fetchFinal(recording, dir, name = 'final.mp4') {
  assert.ok(recording.downloads?.final, `download links: ${JSON.stringify(recording.downloads)}`);
  const res = await fetch(recording.downloads.final);
  assert.equal(res.status, 200);
  const file = path.join(dir, name);
  await fs.writeFile(file, Buffer.from(await res.arrayBuffer()));
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height,sample_rate:format=duration', '-of', 'json', file]);
  const probe = JSON.parse(stdout);
  return { file, probe, video: probe.streams.find((s) => s.codec_name === 'h264'), audio: probe.streams.find((s) => s.codec_name === 'aac') };
}

/** final.mp4 is H.264 + AAC at 48 kHz, as long as the take, decodes cleanly; resolves its video stream. */
export async function checkFinal(recording, dir, durationMs) {
  const { file, probe, video, audio } = await fetchFinal(recording, dir);
  assert.ok(video && audio, `h264 + aac: ${JSON.stringify(probe)}`);
  assert.equal(audio.sample_rate, '48000');
  const seconds = Number(probe.format.duration);
  assert.ok(Math.abs(seconds - durationMs / 1000) < 0.1, `duration ${seconds}s for a ${durationMs} ms take`);
  const decode = await run('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
  assert.equal(decode.stderr.trim(), '', 'decodes without errors');
  return video;
}

/** Every participant's own files download: a 48 kHz WAV and an H.264 + AAC video, each as
 * long as the take (they sit on its timeline). */
export async function checkParticipantFiles(recording, dir, durationMs) {
  const tracks = Object.entries(recording.downloads?.tracks ?? {});
  assert.equal(tracks.length, recording.participants.length, `tracks: ${JSON.stringify(recording.downloads)}`);
  for (const [pid, links] of tracks) {
    for (const [kind, url] of Object.entries({ wav: links.wav, video: links.video })) {
      const res = await fetch(url);
      assert.equal(res.status, 200, `${pid} ${kind}`);
      const file = path.join(dir, `${pid}.${kind}`);
      await fs.writeFile(file, Buffer.from(await res.arrayBuffer()));
      const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,sample_rate:format=duration', '-of', 'json', file]);
      const probe = JSON.parse(stdout);
      const codecs = probe.streams.map((s) => s.codec_name).sort();
      assert.deepEqual(codecs, kind === 'wav' ? ['pcm_s16le'] : ['aac', 'h264'], `${pid} ${kind}`);
      assert.ok(Math.abs(Number(probe.format.duration) - durationMs / 1000) < 0.1, `${pid} ${kind}: ${probe.format.duration} s`);
    }
  }
}

/** `zencast worker` on the server's database and storage; its stderr is in .log(). */
export function startWorker(server, env = {}) {
  const child = spawn(ZENCAST_BIN, ['worker'], {
    env: { ...server.env, RENDER_POLL: '1s', ...env }, cwd: server.tmpDir, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (log += d));
  child.log = () => log;
  return child;
}

/** SIGTERM, and resolves the exit once the worker is gone. */
export async function stopWorker(child) {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code, signal] = await exited;
  return { code, signal };
}
