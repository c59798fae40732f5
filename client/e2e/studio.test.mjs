// The studio in real browsers: a host and a guest (two Chromium contexts with fake cameras)
// against a real `zencast serve` serving client/dist. They see each other over WebRTC, chat,
// record (countdown, timer, stop), and the call survives the guest's network dropping.
//
//   npm run build && npm run e2e
//
// Needs Debian's Chromium (/usr/lib/chromium/chromium) and the server built in ../build.
// Screenshots go to a temporary folder whose path is printed.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { startServer } from '../../server/tests/http/lib/server.mjs';
import { createSession, join, markStream, openStudio, tileVideo, waitForLiveVideo, waitForTimerAtLeast } from './lib/studio.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.resolve(here, '../dist');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };


// ---------------------------------------------------------------------------------------------

describe('studio', { timeout: 180_000 }, () => {
  let server;
  let browser;
  let session;
  let host;
  let guest;
  let shots;

  before(async () => {
    await fs.access(path.join(DIST, 'index.html')).catch(() => {
      throw new Error(`${DIST}/index.html is missing: run \`npm run build\` first`);
    });
    server = await startServer({
      env: {
        STATIC_DIR: DIST,
        STUN_URLS: 'none', // loopback only: no outside STUN server
        ALLOWED_ORIGINS: undefined,
        MAX_PARTICIPANTS: undefined,
        RECORDING_COUNTDOWN: undefined,
        HEARTBEAT_INTERVAL: undefined,
        HEARTBEAT_TIMEOUT: undefined,
      },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream=fps=30',
        '--allow-loopback-in-peer-connection',
      ],
    });
    session = await createSession(server);
    shots = await fs.mkdtemp(path.join(os.tmpdir(), 'zencast-studio-shots-'));
    console.log(`screenshots: ${shots}`);
  });

  after(async () => {
    await browser?.close();
    const result = await server?.stop();
    if (result && result.code !== 0) console.log(result.log);
  });

  let inCall = false;
  const dumpLogsOnFailure = async (fn, t) => {
    if (t && !inCall) return t.skip('host and guest are not in the call');
    try {
      await fn();
      if (process.env.E2E_LOGS) for (const p of [host, guest]) if (p) console.log(p.logs.splice(0).join('\n'));
    } catch (err) {
      for (const p of [host, guest]) if (p) console.log(p.logs.slice(-400).join('\n'));
      throw err;
    }
  };

  test('host and guest see each other over WebRTC', () =>
    dumpLogsOnFailure(async () => {
      const { roomId } = session;
      host = await openStudio(browser, server, {
        viewport: DESKTOP,
        roomId,
        label: 'host',
        storage: { 'zencast.host': JSON.stringify(session.host) },
        inspectPeers: true,
      });
      // The host records in 1080p with the browser's audio processing off (before the guest opens
      // the camera: the contexts share the one fake camera, at the size its first user asked).
      const preview = 'video[aria-label="Your camera preview"]';
      await host.page.getByLabel('Recording quality').selectOption('1080p');
      await host.page.getByLabel('Clean up my microphone').uncheck();
      await host.page.waitForFunction((sel) => document.querySelector(sel)?.videoHeight === 1080, preview);
      // What the microphone was opened with (what it reports can differ when another context of
      // this browser has the same fake device open).
      const mic = await host.page.waitForFunction((sel) => {
        const asked = document.querySelector(sel)?.srcObject?.getAudioTracks()[0]?.getConstraints();
        return asked?.echoCancellation === false && asked;
      }, preview);
      const asked = await mic.jsonValue();
      assert.equal(asked.noiseSuppression, false);
      assert.equal(asked.autoGainControl, false);
      guest = await openStudio(browser, server, {
        viewport: PHONE,
        roomId,
        label: 'guest',
        storage: {
          [`zencast.participant.${roomId}`]: session.guest.token,
          [`zencast.me.${roomId}`]: JSON.stringify({ participantId: session.guest.participantId, name: session.guest.name }),
        },
      });

      // Green room: preview, level meter, the name we join as.
      for (const [p, name] of [[host, 'Ada Host'], [guest, 'Grace Guest']]) {
        await p.page.getByRole('heading', { name: 'Check your camera and microphone' }).waitFor();
        await p.page.waitForFunction(() => document.querySelector('video[aria-label="Your camera preview"]')?.videoWidth > 0);
        await p.page.getByText(name, { exact: true }).waitFor();
        assert.ok(await p.page.getByRole('meter', { name: 'Microphone level' }).isVisible());
        assert.equal(await p.page.getByLabel('Camera', { exact: true }).count(), 1);
        assert.equal(await p.page.getByLabel('Microphone', { exact: true }).count(), 1);
      }
      await host.page.screenshot({ path: path.join(shots, 'greenroom-1280x800.png') });
      await guest.page.screenshot({ path: path.join(shots, 'greenroom-390x844.png') });

      await join(host.page);
      await join(guest.page);

      const atHost = await waitForLiveVideo(host.page, 'Grace Guest');
      const atGuest = await waitForLiveVideo(guest.page, 'Ada Host');
      assert.ok(atHost.width > 0 && atGuest.width > 0);
      // The call sends the host's 1080p camera scaled down to 720p.
      const scales = await host.page.evaluate(() => window.peerConnections.map((pc) =>
        pc.getSenders().find((s) => s.track?.kind === 'video')?.getParameters().encodings[0]?.scaleResolutionDownBy));
      assert.deepEqual(scales, [1.5]);
      inCall = true;
    }));

  test('a chat message from the guest reaches the host', (t) =>
    dumpLogsOnFailure(async () => {
      await guest.page.getByRole('button', { name: 'Chat' }).click();
      await guest.page.getByRole('textbox', { name: 'Message' }).fill('Can everyone hear me?');
      await guest.page.getByRole('button', { name: 'Send' }).click();
      await host.page.getByTestId('chat-messages').getByText('Can everyone hear me?').waitFor();
      await guest.page.getByTestId('chat-messages').getByText('Can everyone hear me?').waitFor();
      await guest.page.screenshot({ path: path.join(shots, 'room-chat-390x844.png') });
      await guest.page.getByRole('button', { name: 'Close chat' }).click();
    }, t));

  test('camera and microphone switches reach the other side; the host asks the guest to mute', (t) =>
    dumpLogsOnFailure(async () => {
      const guestTileAtHost = host.page.locator('[data-testid="participant-tile"][data-name="Grace Guest"]');
      await guest.page.getByRole('button', { name: 'Turn camera off' }).click();
      await guestTileAtHost.locator('video').waitFor({ state: 'hidden' });
      await guest.page.getByRole('button', { name: 'Turn camera off' }).click();
      await guestTileAtHost.locator('video').waitFor({ state: 'visible' });

      await host.page.getByRole('button', { name: 'Ask Grace Guest to mute' }).click();
      await guest.page.locator('button[aria-label="Mute microphone"][aria-pressed="true"]').waitFor();
      await guest.page.getByText('The host muted your microphone.').waitFor();
      await guestTileAtHost.getByText('Microphone off.').waitFor({ state: 'attached' });
      const micTracksOff = await guest.page.$eval('[data-testid="self-tile"] video', (v) => v.srcObject.getAudioTracks().every((track) => !track.enabled));
      assert.ok(micTracksOff, "the guest's microphone track is disabled");
      await guest.page.getByRole('button', { name: 'Mute microphone' }).click();
      await guestTileAtHost.getByText('Microphone off.').waitFor({ state: 'detached' });
    }, t));

  test('the host records: everyone sees the countdown, the timer, then the stop', (t) =>
    dumpLogsOnFailure(async () => {
      assert.equal(await guest.page.getByRole('button', { name: 'Record' }).count(), 0, 'a guest has no Record button');
      await host.page.getByRole('button', { name: 'Record' }).click();
      for (const p of [host, guest]) await p.page.getByTestId('recording-countdown').waitFor();
      await host.page.screenshot({ path: path.join(shots, 'room-countdown-1280x800.png') });
      for (const p of [host, guest]) await waitForTimerAtLeast(p.page, 1);
      await host.page.screenshot({ path: path.join(shots, 'room-recording-1280x800.png') });
      await guest.page.screenshot({ path: path.join(shots, 'room-recording-390x844.png') });

      await host.page.getByRole('button', { name: 'Stop' }).click();
      for (const p of [host, guest]) {
        await p.page.getByTestId('recording-stopped').waitFor();
        assert.equal(await p.page.getByTestId('recording-timer').count(), 0);
      }
      await host.page.getByRole('button', { name: 'Record' }).waitFor();
    }, t));

  test("the host sees another participant's upload status", (t) =>
    dumpLogsOnFailure(async () => {
      // A third participant without a browser UI: a bare WebSocket from the test page.
      const { roomId } = session;
      const rec = await server.request('GET', `/api/recordings/${roomId}`, { token: session.host.accessToken });
      const joined = await server.request('POST', `/api/rooms/${roomId}/join`, {
        body: { inviteToken: rec.body.recording.inviteToken, name: 'Uma Uploader' },
      });
      assert.equal(joined.status, 201, joined.text);
      await guest.page.evaluate(
        ({ roomId, token }) =>
          new Promise((resolve, reject) => {
            const ws = new WebSocket(`ws://${location.host}/ws`, 'zencast.v1');
            window.zencastUploader = ws;
            ws.onopen = () => ws.send(JSON.stringify({ type: 'join', roomId, token }));
            ws.onmessage = (e) => {
              if (JSON.parse(e.data).type !== 'joined') return;
              ws.send(JSON.stringify({ type: 'upload-status', recorded: 3, uploaded: 2 }));
              resolve();
            };
            ws.onerror = reject;
          }),
        { roomId, token: joined.body.participantToken },
      );
      const tile = host.page.locator('[data-testid="participant-tile"][data-name="Uma Uploader"]');
      await tile.getByTestId('upload-status').getByText('2/3').waitFor();
      // Guests do not see other participants' uploads.
      await guest.page.locator('[data-testid="participant-tile"][data-name="Uma Uploader"]').waitFor();
      assert.equal(await guest.page.locator('[data-name="Uma Uploader"] [data-testid="upload-status"]').count(), 0);
      await guest.page.evaluate(() => window.zencastUploader.close());
      await tile.waitFor({ state: 'detached' });
    }, t));

  test('the guest loses the network: banner, reconnect, the call recovers', (t) =>
    dumpLogsOnFailure(async () => {
      const banner = guest.page.getByTestId('connection-banner');
      // Mark the streams of the current connections, to see new ones replace them.
      for (const [p, name] of [[host, 'Grace Guest'], [guest, 'Ada Host']]) await markStream(p.page, name);
      await guest.context.setOffline(true);
      await banner.getByText(/Reconnecting/).waitFor();
      // Stay offline until a reconnect attempt has failed.
      await banner.getByText(/attempt [2-9]/).waitFor();
      await guest.context.setOffline(false);
      await banner.getByText(/Reconnecting/).waitFor({ state: 'detached' });
      // Both sides renegotiated a new connection, and its video flows.
      for (const [p, name] of [[host, 'Grace Guest'], [guest, 'Ada Host']]) {
        await p.page.waitForFunction((sel) => {
          const stream = document.querySelector(sel)?.srcObject;
          return stream && !stream.zencastOld;
        }, tileVideo(name));
        await waitForLiveVideo(p.page, name);
      }
    }, t));

  test('screenshots of the room at both sizes', (t) =>
    dumpLogsOnFailure(async () => {
      await host.page.screenshot({ path: path.join(shots, 'room-1280x800.png') });
      await guest.page.screenshot({ path: path.join(shots, 'room-390x844.png') });
      await host.page.setViewportSize(PHONE);
      await guest.page.setViewportSize(DESKTOP);
      await waitForLiveVideo(host.page, 'Grace Guest');
      await host.page.screenshot({ path: path.join(shots, 'room-host-390x844.png') });
      await guest.page.screenshot({ path: path.join(shots, 'room-guest-1280x800.png') });
      console.log(`screenshots: ${shots}`);
    }, t));
});
