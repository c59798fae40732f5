// Rendering again (POST /api/recordings/{roomId}/render): only the host, only known settings,
// only once the take is complete and no render of it is under way; the new render replaces
// the previous files, which stay downloadable until then.
//
// The harness runs servers without the embedded render worker, so a queued render stays
// queued until a test starts a `zencast worker`: that makes "a render is under way" certain.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';

import { UUID_RE, assertError, assertInvalidField, assertJson, stopAndCheck } from './lib/expect.mjs';
import {
  checkFinal, fetchFinal, haveFfmpeg, recordTake, startWorker, stopWorker, uploadTrack, waitForRender,
} from './lib/render.mjs';
import { freePort, makeTempDir, registerUser, startServer, uniqueEmail, waitFor } from './lib/server.mjs';
import { closeAllClients, joinAs } from './lib/ws.mjs';

const ffmpeg = await haveFfmpeg();
const skip = ffmpeg === true ? false : ffmpeg;

function renderAgain(server, token, roomId, body, options = {}) {
  return server.request('POST', `/api/recordings/${roomId}/render`, { token, body, ...options });
}

function getRecording(server, token, roomId) {
  return server.request('GET', `/api/recordings/${roomId}`, { token });
}

describe('render again: who may ask, for what, and when', () => {
  let server = null;
  let host = null;
  let rec = null;
  let guestToken = null;
  let ws = null;
  let firstRenderId = null;

  before(async () => {
    const port = await freePort();
    server = await startServer({ port, env: { RECORDING_COUNTDOWN: '1s', PUBLIC_URL: `http://127.0.0.1:${port}` } });
    host = await registerUser(server, { email: uniqueEmail('rerender-host'), name: 'Ada' });
    const created = await server.request('POST', '/api/recordings', { token: host.accessToken, body: { title: 'Again' } });
    assertJson(created, 201);
    rec = created.body.recording;
    // A guest joins the session but uploads nothing: the take has one participant.
    const joined = await server.request('POST', `/api/rooms/${rec.roomId}/join`, { body: { inviteToken: rec.inviteToken, name: 'Grace' } });
    assertJson(joined, 201);
    guestToken = joined.body.participantToken;
  });

  after(async () => {
    await closeAllClients();
    await stopAndCheck(server);
  });

  test('nothing recorded yet: 409 not_ready', async () => {
    assertError(await renderAgain(server, host.accessToken, rec.roomId, {}), 409, 'not_ready');
  });

  test('while the take records: 409 not_ready', async () => {
    ({ ws } = await joinAs(server, { token: host.accessToken, roomId: rec.roomId }));
    ws.send({ type: 'recording.start' });
    const started = await ws.next('recording.started');
    assertError(await renderAgain(server, host.accessToken, rec.roomId, {}), 409, 'not_ready');
    // Random bytes: nothing renders them here.
    await uploadTrack(server, host.accessToken, rec.roomId, [randomBytes(3000)], started.startAt);
  });

  test('stopped, but the uploads are not complete: 409 not_ready', async () => {
    ws.send({ type: 'recording.stop' });
    await ws.next('recording.stopped');
    await ws.close();
    assertError(await renderAgain(server, host.accessToken, rec.roomId, {}), 409, 'not_ready');
    const done = await server.request('POST', '/api/uploads/complete', { token: host.accessToken, body: { roomId: rec.roomId, chunkCount: 1 } });
    assertJson(done, 200);
    assert.equal(done.body.takeComplete, true, done.text);
    firstRenderId = done.body.renderJobId;
  });

  test('side-by-side with one participant in the take: 422 layout_needs_two_participants', async () => {
    const res = await renderAgain(server, host.accessToken, rec.roomId, { layout: 'side-by-side' });
    assertError(res, 422, 'layout_needs_two_participants');
    assert.match(res.body.error.message, /two participants/);
  });

  test('while the first render is queued: 409 render_in_progress', async () => {
    const res = await renderAgain(server, host.accessToken, rec.roomId, { layout: 'speaker', resolution: '1080p' });
    assertError(res, 409, 'render_in_progress');
  });

  test('no token 401, a guest 403, another user or no recording 404', async () => {
    assertError(await renderAgain(server, undefined, rec.roomId, {}), 401, 'unauthorized');
    assertError(await renderAgain(server, 'not.a.token', rec.roomId, {}), 401, 'unauthorized');
    assertError(await renderAgain(server, guestToken, rec.roomId, {}), 403, 'forbidden');
    const other = await registerUser(server, { email: uniqueEmail('rerender-other') });
    assertError(await renderAgain(server, other.accessToken, rec.roomId, {}), 404, 'not_found');
    assertError(await renderAgain(server, host.accessToken, randomUUID(), {}), 404, 'not_found');
    assertError(await renderAgain(server, host.accessToken, 'not-a-uuid', {}), 404, 'not_found');
  });

  test('unknown or mistyped settings: 400 invalid_field; bodies as on every JSON route', async () => {
    const post = (body) => renderAgain(server, host.accessToken, rec.roomId, body);
    assertInvalidField(await post({ layout: 'mosaic' }), 'layout');
    assertInvalidField(await post({ layout: 'Grid' }), 'layout');
    assertInvalidField(await post({ layout: 42 }), 'layout');
    assertInvalidField(await post({ layout: '' }), 'layout');
    assertInvalidField(await post({ resolution: '4k' }), 'resolution');
    assertInvalidField(await post({ resolution: '1920x1080' }), 'resolution');
    assertInvalidField(await post({ layout: 'grid', resolution: 1080 }), 'resolution');
    const options = { raw: '[]', contentType: 'application/json' };
    assertError(await renderAgain(server, host.accessToken, rec.roomId, undefined, options), 400, 'invalid_json');
    options.raw = '{"layout":';
    assertError(await renderAgain(server, host.accessToken, rec.roomId, undefined, options), 400, 'invalid_json');
    options.contentType = 'text/plain';
    options.raw = '{"layout":"grid"}';
    assertError(await renderAgain(server, host.accessToken, rec.roomId, undefined, options), 415, 'unsupported_media_type');
  });

  test('the refused requests queued nothing and were logged without secrets', async () => {
    const res = await getRecording(server, host.accessToken, rec.roomId);
    assertJson(res, 200);
    const { render, status } = res.body.recording;
    assert.equal(status, 'queued');
    assert.equal(render.id, firstRenderId);
    assert.equal(render.status, 'queued');
    assert.equal(render.layout, 'grid');
    assert.equal(render.resolution, '720p');
    const log = server.log();
    assert.match(log, new RegExp(`render again: user ${host.user.id}, recording ${rec.roomId}, layout side-by-side, resolution 720p: refused, 422 layout_needs_two_participants`));
    assert.match(log, new RegExp(`render again: user ${host.user.id}, recording ${rec.roomId}, layout speaker, resolution 1080p: refused, 409 render_in_progress`));
    assert.ok(!log.includes(host.accessToken) && !log.includes(guestToken), 'no token in the log');
  });
});

describe('render again: 1080p speaker after a first render', { skip }, () => {
  let server = null;
  const workers = [];
  after(async () => {
    for (const w of workers) await stopWorker(w);
    await closeAllClients();
    await stopAndCheck(server);
  });

  test('202, the old files stay until the new render replaces them, then final.mp4 is 1920x1080', { timeout: 420_000 }, async () => {
    const port = await freePort();
    server = await startServer({ port, env: { RECORDING_COUNTDOWN: '1s', PUBLIC_URL: `http://127.0.0.1:${port}` } });
    const dir = await makeTempDir('zencast-rerender-');
    const { host, rec, durationMs } = await recordTake(server, dir);
    const post = (body) => renderAgain(server, host.accessToken, rec.roomId, body);

    // The first render, at the defaults, by a worker that stops once it is done.
    workers.push(startWorker(server));
    const first = await waitForRender(server, host, rec.roomId, 180_000);
    assert.deepEqual([first.render.layout, first.render.resolution], ['grid', '720p']);
    const firstVideo = await checkFinal(first, dir, durationMs);
    assert.deepEqual([firstVideo.width, firstVideo.height], [1280, 720]);
    const stopped = await stopWorker(workers[0]);
    assert.equal(stopped.code, 0, `worker exit: ${JSON.stringify(stopped)}\n${workers[0].log()}`);

    const res = await post({ layout: 'speaker', resolution: '1080p' });
    assertJson(res, 202);
    const job = res.body.render;
    assert.match(job.id, UUID_RE);
    assert.notEqual(job.id, first.render.id);
    assert.equal(job.takeId, first.render.takeId);
    assert.deepEqual([job.status, job.layout, job.resolution, job.progress], ['queued', 'speaker', '1080p', 0]);
    assert.match(server.log(), new RegExp(`render again: user ${host.user.id}, recording ${rec.roomId}, layout speaker, resolution 1080p: queued job ${job.id}`));

    // Queued: the recording says so, and the previous files are still there to download.
    const queued = (await getRecording(server, host.accessToken, rec.roomId)).body.recording;
    assert.equal(queued.status, 'queued');
    assert.deepEqual([queued.render.id, queued.render.status, queued.render.layout, queued.render.resolution], [job.id, 'queued', 'speaker', '1080p']);
    const kept = await fetchFinal(queued, dir, 'kept.mp4');
    assert.deepEqual([kept.video.width, kept.video.height], [1280, 720]);
    for (const { wav } of Object.values(queued.downloads.tracks)) assert.equal((await fetch(wav)).status, 200);
    assertError(await post({ layout: 'grid' }), 409, 'render_in_progress');

    // Running: still one render at a time.
    workers.push(startWorker(server));
    await waitFor(() => /claimed job .*: layout speaker, 1080p/.test(workers[1].log()), { timeoutMs: 30_000, what: 'the worker to claim the job' });
    assertError(await post({ resolution: '720p' }), 409, 'render_in_progress');

    const second = await waitForRender(server, host, rec.roomId, 240_000);
    assert.deepEqual([second.render.id, second.render.status, second.render.progress, second.render.attempts], [job.id, 'done', 100, 1]);
    assert.deepEqual([second.render.layout, second.render.resolution], ['speaker', '1080p']);
    const video = await checkFinal(second, dir, durationMs);
    assert.deepEqual([video.width, video.height], [1920, 1080]);
    for (const { wav } of Object.values(second.downloads.tracks)) assert.equal((await fetch(wav)).status, 200);

    // Without settings, the last render's are used (nobody renders this one).
    assert.equal((await stopWorker(workers[1])).code, 0, workers[1].log());
    const again = await server.request('POST', `/api/recordings/${rec.roomId}/render`, { token: host.accessToken });
    assertJson(again, 202);
    assert.deepEqual([again.body.render.layout, again.body.render.resolution], ['speaker', '1080p']);
    await fs.rm(dir, { recursive: true, force: true });
  });
});
