// A guest's page reloaded in the middle of a take: after joining again the guest records the
// same take on (a new MediaRecorder whose chunk indexes go on from the old ones). Host and guest
// in the studio, the host records about 25 s, the guest's page reloads once its first chunk is
// on the server (about 10 s in); every
// chunk of both arrives and the take completes; the render worker makes the guest's WAV, which
// has sound after the reload.
//
//   npm run build && ZENCAST_BIN=../build/zencast node --test e2e/reload.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { waitFor } from '../../server/tests/http/lib/server.mjs';
import { launchBrowser, startAppServer, VIEWPORTS } from './lib/app.mjs';
import { haveFfmpeg, recordingOf, run } from './lib/media.mjs';
import { createSession, join, openStudio, waitForLiveVideo, waitForTimerAtLeast } from './lib/studio.mjs';

/** The loudest sample of [from, from + seconds) of an audio file, in dB (about -91 when silent). */
async function maxVolumeDb(file, from, seconds) {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-ss', String(from), '-t', String(seconds), '-i', file, '-af', 'volumedetect', '-f', 'null', '-']);
  const match = /max_volume: (-?[\d.]+|-inf) dB/.exec(stderr);
  assert.ok(match, stderr);
  return match[1] === '-inf' ? -Infinity : Number(match[1]);
}

describe('a page reloaded during a take', { skip: !(await haveFfmpeg()) && 'ffmpeg and ffprobe are missing', timeout: 420_000 }, () => {
  let server;
  let browser;
  let dir;
  let session;
  let takeComplete = false;
  const people = [];

  before(async () => {
    server = await startAppServer({ RENDER_WORKER: 'on', RENDER_POLL: '1s', STUN_URLS: 'none' });
    browser = await launchBrowser();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zencast-reload-'));
  });

  after(async () => {
    await browser?.close();
    const result = await server?.stop();
    if (result && result.code !== 0) console.log(result.log);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  function dumpLogs() {
    for (const p of people) console.log(p.logs.slice(-200).join('\n'));
    console.log(server.log().slice(-4000));
  }

  test('the guest reloads at ~10 s of a 25 s take: it records the take on, every chunk of both arrives, the take completes', async () => {
    session = await createSession(server);
    const { roomId } = session;
    const host = await openStudio(browser, server, {
      viewport: VIEWPORTS.laptop, roomId, label: 'host', storage: { 'zencast.host': JSON.stringify(session.host) },
    });
    const guest = await openStudio(browser, server, {
      viewport: VIEWPORTS.laptop, roomId, label: 'guest',
      storage: {
        [`zencast.participant.${roomId}`]: session.guest.token,
        [`zencast.me.${roomId}`]: JSON.stringify({ participantId: session.guest.participantId, name: session.guest.name }),
      },
    });
    people.push(host, guest);
    guest.page.on('dialog', (dialog) => void dialog.accept()); // "leave the page?" while uploads are pending
    try {
      await join(host.page);
      await join(guest.page);
      await waitForLiveVideo(host.page, 'Grace Guest');

      await host.page.getByRole('button', { name: 'Record' }).click();
      // The reload comes after the guest's first chunk was handed over (MediaRecorder gives it at
      // ~10 s): the media of a chunk still inside MediaRecorder when a page goes away is gone.
      await waitFor(async () => {
        const res = await server.request('GET', `/api/uploads/status?roomId=${roomId}`, { token: session.guest.token });
        return res.status === 200 && res.body.chunks.includes(0);
      }, { timeoutMs: 60_000, intervalMs: 250, what: "the guest's chunk 0 on the server" });
      guest.logs.push('[test] reload');
      await guest.page.reload();
      await join(guest.page);
      await waitForTimerAtLeast(guest.page, 12); // the studio shows the take going on
      await waitForTimerAtLeast(host.page, 25);
      await host.page.getByRole('button', { name: 'Stop' }).click();

      let take;
      await waitFor(async () => {
        take = (await recordingOf(server, session)).takes.at(-1);
        return take?.status === 'complete';
      }, { timeoutMs: 120_000, intervalMs: 1000, what: 'the take to complete' });
      assert.equal(take.missing, null, JSON.stringify(take));
      assert.equal(take.participants.length, 2, JSON.stringify(take));
      for (const p of take.participants) {
        assert.ok(p.completed && p.chunkCount >= 2 && p.chunksStored === p.chunkCount && p.chunksPending === 0, JSON.stringify(p));
      }
      const mine = take.participants.find((p) => p.participantId === session.guest.participantId);
      assert.ok(mine, JSON.stringify(take));
      console.log(`# participants: ${JSON.stringify(take.participants)}`);
      takeComplete = true;
    } catch (err) {
      dumpLogs();
      throw err;
    }
  });

  test("the render: the guest's WAV has sound after the reload (needs the render worker's runs)", async () => {
    assert.ok(takeComplete, 'the take did not complete (see the test before)');
    let recording;
    await waitFor(async () => {
      recording = await recordingOf(server, session);
      return ['ready', 'failed'].includes(recording.status);
    }, { timeoutMs: 240_000, intervalMs: 1000, what: 'the take to be rendered' });
    assert.equal(recording.status, 'ready', JSON.stringify(recording.render));
    const take = recording.takes.at(-1);
    assert.ok(take.stoppedAt - take.startedAt >= 24_000, JSON.stringify(take));
    const wav = path.join(dir, 'guest.wav');
    await fs.writeFile(wav, Buffer.from(await (await fetch(recording.downloads.tracks[session.guest.participantId].wav)).arrayBuffer()));
    const before = await maxVolumeDb(wav, 1, 8);
    const afterReload = await maxVolumeDb(wav, 15, 9);
    assert.ok(before > -50, `the guest's WAV has sound before the reload (max ${before} dB)`);
    assert.ok(afterReload > -50, `the guest's WAV has sound in [15 s, 24 s], after the reload (max ${afterReload} dB)`);
  });
});
