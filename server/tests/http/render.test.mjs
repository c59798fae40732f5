// Rendering (issue 5): a take recorded by a host and a guest, uploaded in chunks cut at
// arbitrary byte offsets, becomes final.mp4 through the render worker; and a worker killed
// mid-render leaves a job that another worker finishes, once.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, describe, test } from 'node:test';

import { stopAndCheck } from './lib/expect.mjs';
import { checkFinal, checkParticipantFiles, haveFfmpeg, recordTake, startWorker, waitForRender } from './lib/render.mjs';
import { freePort, makeTempDir, startServer, waitFor } from './lib/server.mjs';
import { closeAllClients } from './lib/ws.mjs';

const ffmpeg = await haveFfmpeg();
const skip = ffmpeg === true ? false : ffmpeg;

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
    assert.equal(recording.render.layout, 'grid');
    assert.equal(recording.render.resolution, '720p');
    // The dashboard's list carries the recorded time and the render's summary.
    const list = await server.request('GET', '/api/recordings', { token: host.accessToken });
    const item = list.body.recordings.find((r) => r.roomId === rec.roomId);
    const recordedMs = recording.takes.reduce((sum, t) => sum + (t.stoppedAt - t.startedAt), 0);
    assert.deepEqual([item.recordedMs, item.recordingSince, item.render], [recordedMs, null, { status: 'done', progress: 100, layout: 'grid', resolution: '720p' }]);
    const video = await checkFinal(recording, dir, durationMs);
    assert.deepEqual([video.width, video.height], [1280, 720]);
    await checkParticipantFiles(recording, dir, durationMs);
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
    for (let i = 0; i < 2; i++) workers.push(startWorker(server, { RENDER_LEASE: '4s' }));
    const logs = () => workers.map((w) => w.log());
    const dir = await makeTempDir('zencast-render-');
    const { host, rec, durationMs } = await recordTake(server, dir);
    // Kill whichever worker claims the job, as soon as it has.
    let killed = -1;
    await waitFor(() => {
      killed = logs().findIndex((l) => /claimed job/.test(l));
      return killed >= 0;
    }, { timeoutMs: 30_000, what: 'a worker to claim the job' });
    workers[killed].kill('SIGKILL');
    const recording = await waitForRender(server, host, rec.roomId, 180_000);
    assert.equal(recording.render.status, 'done');
    assert.equal(recording.render.attempts, 2, 'the second attempt, by the other worker, finished it');
    assert.match(logs()[1 - killed], /claimed job .* \(attempt 2\)/);
    assert.match(logs()[1 - killed], /job .* done/);
    await checkFinal(recording, dir, durationMs);
    for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
    await fs.rm(dir, { recursive: true, force: true });
  });
});
