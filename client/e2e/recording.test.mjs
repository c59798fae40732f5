// A session's page while a real take renders: it polls until the render is done and then
// stops, plays final.mp4, links every file, and renders again, showing the server's refusals.
// The take is recorded and uploaded by the HTTP suite's helpers (ffmpeg makes the media).
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';

import { makeTempDir } from '../../server/tests/http/lib/server.mjs';
import { captureAtEachSize, launchBrowser, openPage, signInWithForm, startAppServer } from './lib/app.mjs';

const RENDER_TIMEOUT_MS = 180_000;

// The helpers need ffmpeg and the HTTP suite's npm packages (`ws`): without them, skip.
let render;
let skip = false;
try {
  render = await import('../../server/tests/http/lib/render.mjs');
  const ffmpeg = await render.haveFfmpeg();
  if (ffmpeg !== true) skip = ffmpeg;
} catch (err) {
  skip = `needs the HTTP suite's packages (cd server/tests/http && npm ci): ${err.message}`;
}

describe('the session page of a recorded take', { skip }, () => {
  let server;
  let browser;
  let mediaDir;

  before(async () => {
    server = await startAppServer({ RENDER_WORKER: 'on', RENDER_POLL: '1s', RECORDING_COUNTDOWN: '1s' });
    browser = await launchBrowser();
    mediaDir = await makeTempDir('zencast-e2e-media-');
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (mediaDir) await fs.rm(mediaDir, { recursive: true, force: true });
  });

  test('follows the render, then plays and links its files; renders again', { timeout: 2 * RENDER_TIMEOUT_MS + 60_000 }, async (t) => {
    const { host, rec } = await render.recordTake(server, mediaDir); // a render job is queued now
    const detailPath = `/api/recordings/${rec.roomId}`;

    const page = await openPage(browser, server);
    await page.clock.install(); // real time flows; fastForward below proves that polling stopped
    await signInWithForm(page, host);
    const isPoll = (r) => r.method() === 'GET' && new URL(r.url()).pathname === detailPath;
    const polls = [];
    const answers = [];
    page.on('request', (r) => isPoll(r) && polls.push(r));
    page.on('response', (r) => isPoll(r.request()) && answers.push(r.json()));

    await page.goto(`/recordings/${rec.roomId}`);
    await page.getByRole('heading', { name: 'Takes and uploads' }).waitFor();
    await page.getByText('All uploads in').waitFor();
    await page.getByText('Grace', { exact: true }).first().waitFor();

    const video = page.locator('video');
    await video.waitFor({ timeout: RENDER_TIMEOUT_MS });
    await page.getByText(/Grid, 720p · rendered at/).waitFor();
    const firstAnswer = await answers[0];
    t.diagnostic(`first answer: render ${firstAnswer.recording.render.status}; ${answers.length} answers until done`);
    if (firstAnswer.recording.render.status !== 'done') {
      assert.ok(answers.length >= 2, 'the page polled until the render was done');
    }

    // Done: no more polling, even after minutes.
    const settled = polls.length;
    await page.clock.fastForward('05:00');
    await page.evaluate(() => fetch('/healthz')); // requests are reported in order: any poll would come first
    assert.equal(polls.length, settled, 'no polling once the render is done');

    // The player and the links point at the rendered files, and they download.
    const final = await page.getByRole('link', { name: 'Download final.mp4' }).getAttribute('href');
    assert.equal(await video.getAttribute('src'), final);
    const files = [final];
    for (const name of ['Ada (host)', 'Grace']) {
      files.push(await page.getByRole('link', { name: `Audio (WAV) of ${name}` }).getAttribute('href'));
      files.push(await page.getByRole('link', { name: `Video of ${name}` }).getAttribute('href'));
    }
    for (const url of files) {
      const res = await page.request.get(url);
      assert.equal(res.status(), 200, url);
      assert.ok((await res.body()).length > 1000, url);
    }
    await captureAtEachSize(page, 'recording-rendered');

    await page.goto('/dashboard');
    const card = page.getByRole('listitem').filter({ hasText: 'Render' }).first();
    await card.getByText('Rendered · Grid, 720p').waitFor();
    await card.getByText('2 participants').waitFor();
    // The take's length, from the list itself (no request per session).
    assert.match(await card.locator('dt:text-is("Duration") + dd').textContent(), /^\d+:\d\d$/);
    await captureAtEachSize(page, 'dashboard-recorded');

    // The server's refusals read clearly (answers stubbed: they need states this take is not in).
    await page.goto(`/recordings/${rec.roomId}`);
    const renderPath = `${detailPath}/render`;
    const refuse = (status, code, message) => (route) =>
      route.fulfill({ status, contentType: 'application/json', body: JSON.stringify({ error: { code, message } }) });
    await page.route(`**${renderPath}`, refuse(422, 'layout_needs_two_participants', 'side-by-side needs two'));
    await page.getByLabel('Side by side').check();
    await page.getByLabel('1080p').check();
    const asked = page.waitForRequest((r) => r.url().endsWith(renderPath));
    await page.getByRole('button', { name: 'Render again' }).click();
    assert.deepEqual((await asked).postDataJSON(), { layout: 'side-by-side', resolution: '1080p' });
    await page.getByRole('alert').getByText('Side by side needs a take with exactly two participants.').waitFor();

    await page.unroute(`**${renderPath}`);
    await page.route(`**${renderPath}`, refuse(409, 'render_in_progress', 'a render is queued or running'));
    await page.getByRole('button', { name: 'Render again' }).click();
    await page.getByRole('alert').getByText('A render is already under way.').waitFor();
    await page.unroute(`**${renderPath}`);

    // For real: speaker layout; the page follows the new render to its end.
    await page.getByLabel('Speaker').check();
    await page.getByLabel('720p').check();
    const accepted = page.waitForResponse((r) => r.url().endsWith(renderPath));
    await page.getByRole('button', { name: 'Render again' }).click();
    assert.equal((await accepted).status(), 202);
    await page.getByRole('progressbar', { name: 'Render progress' }).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0, 'the earlier error is gone');
    assert.ok(await page.getByRole('button', { name: 'Render again' }).isDisabled(), 'one render at a time');
    await captureAtEachSize(page, 'recording-rendering');
    await page.getByText(/Speaker, 720p · rendered at/).waitFor({ timeout: RENDER_TIMEOUT_MS });

    assert.deepEqual(page.pageErrors, []);
    await page.context().close();
  });
});
