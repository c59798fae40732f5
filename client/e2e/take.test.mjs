// A whole take as users make it: a host signs up, creates a session and enters the studio; a
// guest opens the invite link in a browser of its own (two Chromium contexts with fake cameras
// and microphones); they see each other, the host records about 25 seconds, the guest's network
// drops for 15 seconds in the middle, the host stops; each is told when it is safe to leave,
// every chunk of both arrives, the embedded render worker makes final.mp4, and final.mp4 lasts
// the take with both participants' tiles in it.
//
//   npm run build && npm run e2e
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { waitFor } from '../../server/tests/http/lib/server.mjs';
import { launchBrowser, screenshotDir, startAppServer } from './lib/app.mjs';
import { haveFfmpeg, recordingOf, run } from './lib/media.mjs';
import { guestJoinsFromLink, hostSignsUpAndCreatesSession, join, waitForLiveVideo, waitForTimerAtLeast } from './lib/studio.mjs';

const W = 1280;
const H = 720;

/** Mean brightness of a box of the frame (rgb24, W x H). */
function brightness(rgb, x0, y0, size) {
  let sum = 0;
  for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) {
    const i = (y * W + x) * 3;
    sum += rgb[i] + rgb[i + 1] + rgb[i + 2];
  }
  return sum / (3 * size * size);
}

describe('a take, recorded in the browser and rendered', { skip: !(await haveFfmpeg()) && 'ffmpeg and ffprobe are missing', timeout: 420_000 }, () => {
  let server;
  let browser;
  let dir;
  const people = [];

  before(async () => {
    server = await startAppServer({ RENDER_WORKER: 'on', RENDER_POLL: '1s', STUN_URLS: 'none' });
    browser = await launchBrowser();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zencast-take-'));
  });

  after(async () => {
    await browser?.close();
    const result = await server?.stop();
    if (result && result.code !== 0) console.log(result.log);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('a host signs up and records 25 s with a guest from the invite link, offline for 15 s in the middle: every chunk arrives, final.mp4 has both', async () => {
    const made = await hostSignsUpAndCreatesSession(browser, server, { name: 'Ada Host', title: 'Episode 1' });
    const host = made.person;
    people.push(host);
    const invited = await guestJoinsFromLink(browser, server, { inviteUrl: made.inviteUrl, name: 'Grace Guest' });
    const guest = invited.person;
    const session = { roomId: made.roomId, host: made.host, guest: { participantId: invited.participantId } };
    people.push(guest);
    try {
      await join(host.page);
      await join(guest.page);
      await waitForLiveVideo(host.page, 'Grace Guest');
      await waitForLiveVideo(guest.page, 'Ada Host');

      await host.page.getByRole('button', { name: 'Record' }).click();
      await waitForTimerAtLeast(guest.page, 5);
      await guest.context.setOffline(true);
      await waitForTimerAtLeast(host.page, 20); // 15 s offline
      await guest.context.setOffline(false);
      await waitForTimerAtLeast(host.page, 27);
      await host.page.getByRole('button', { name: 'Stop' }).click();

      // Each is told when closing the page loses nothing.
      for (const p of [host, guest]) await p.page.getByText('Your recording is uploaded. It is safe to leave.').waitFor({ timeout: 120_000 });
      await guest.page.screenshot({ path: path.join(await screenshotDir(), 'room-after-take-1280x800.png') });

      // Every chunk of both arrives, the render runs by itself.
      let recording;
      await waitFor(async () => {
        recording = await recordingOf(server, session);
        return ['ready', 'failed'].includes(recording.status);
      }, { timeoutMs: 240_000, intervalMs: 1000, what: 'the take to be uploaded and rendered' });
      assert.equal(recording.status, 'ready', JSON.stringify(recording.render));
      // complete, not finalised by the host: nobody is missing anything.
      const take = recording.takes.at(-1);
      assert.equal(take.status, 'complete', JSON.stringify(take));
      assert.equal(take.missing, null, JSON.stringify(take));
      assert.equal(take.participants.length, 2, JSON.stringify(take));
      for (const p of take.participants) {
        assert.ok(p.completed && p.chunkCount >= 3 && p.chunksStored === p.chunkCount && p.chunksPending === 0, JSON.stringify(p));
      }

      // final.mp4: as long as the take, both tiles showing a picture.
      const file = path.join(dir, 'final.mp4');
      await fs.writeFile(file, Buffer.from(await (await fetch(recording.downloads.final)).arrayBuffer()));
      const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
      const expected = (take.stoppedAt - take.startedAt) / 1000;
      assert.ok(Math.abs(Number(stdout) - expected) < 0.1, `final.mp4 lasts ${stdout} s, the take ${expected} s`);
      const decode = await run('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
      assert.equal(decode.stderr.trim(), '');
      const frame = await run('ffmpeg', ['-v', 'error', '-ss', String(expected - 3), '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
        { encoding: 'buffer', maxBuffer: W * H * 4 });
      const rgb = frame.stdout;
      assert.equal(rgb.length, W * H * 3);
      const left = brightness(rgb, W / 4 - 50, H / 2 - 50, 100);
      const right = brightness(rgb, (3 * W) / 4 - 50, H / 2 - 50, 100);
      assert.ok(left > 40 && right > 40, `both tiles show a picture near the end (brightness ${left}, ${right})`);
    } catch (err) {
      for (const p of people) console.log(p.logs.slice(-200).join('\n'));
      console.log(server.log().slice(-4000));
      throw err;
    }
  });
});
