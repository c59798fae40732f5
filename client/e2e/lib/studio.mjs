// The studio's browser-test helpers: a session made through the REST API, a studio page
// opened with the tokens the login or join page would have stored, and the conditions the
// tests wait on.
import assert from 'node:assert/strict';

import { registerUser, uniqueEmail } from '../../../server/tests/http/lib/server.mjs';

const TIMEOUT = 30_000;

// ---------------------------------------------------------------------------------------------
// Fixtures

export async function createSession(server) {
  const user = await registerUser(server, { email: uniqueEmail('studio-host'), name: 'Ada Host' });
  const rec = await server.request('POST', '/api/recordings', { token: user.accessToken, body: { title: 'Studio e2e' } });
  assert.equal(rec.status, 201, rec.text);
  const { roomId, inviteToken } = rec.body.recording;
  const joined = await server.request('POST', `/api/rooms/${roomId}/join`, { body: { inviteToken, name: 'Grace Guest' } });
  assert.equal(joined.status, 201, joined.text);
  return {
    roomId,
    host: { accessToken: user.accessToken, refreshToken: user.refreshToken },
    guest: { participantId: joined.body.participant.id, name: 'Grace Guest', token: joined.body.participantToken },
  };
}

/** A browser context whose localStorage holds what the login or join page would have stored. */
export async function openStudio(browser, server, { viewport, storage, roomId, label }) {
  const context = await browser.newContext({ viewport });
  await context.addInitScript((entries) => {
    for (const [key, value] of Object.entries(entries)) localStorage.setItem(key, value);
  }, storage);
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const logs = [];
  page.on('console', (m) => logs.push(`[${label} ${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[${label} pageerror] ${e.message}`));
  await page.goto(`${server.url}/studio/${roomId}`);
  return { context, page, logs };
}

// ---------------------------------------------------------------------------------------------
// Conditions

export const tileVideo = (name) => `[data-testid="participant-tile"][data-name="${name}"] video`;

/** The <video> in the tile of `name` shows frames that keep coming. */
export async function waitForLiveVideo(page, name) {
  const selector = tileVideo(name);
  await page.waitForFunction((sel) => {
    const v = document.querySelector(sel);
    return v && v.videoWidth > 0 && v.currentTime > 0;
  }, selector);
  const t0 = await page.$eval(selector, (v) => v.currentTime);
  await page.waitForFunction(([sel, t]) => document.querySelector(sel)?.currentTime > t + 0.5, [selector, t0]);
  return page.$eval(selector, (v) => ({ width: v.videoWidth, height: v.videoHeight }));
}

/** Tags the MediaStream now shown in the tile of `name`. */
export function markStream(page, name) {
  return page.$eval(tileVideo(name), (v) => {
    v.srcObject.zencastOld = true;
  });
}

/** The running timer text, once it shows at least `seconds`. */
export async function waitForTimerAtLeast(page, seconds) {
  const timer = page.getByTestId('recording-timer');
  await page.waitForFunction(
    (s) => {
      const text = document.querySelector('[data-testid="recording-timer"]')?.textContent ?? '';
      const [m, sec] = text.split(':').map(Number);
      return m * 60 + sec >= s;
    },
    seconds,
  );
  return timer.textContent();
}

export async function join(page) {
  const button = page.getByRole('button', { name: 'Join' });
  await button.waitFor();
  await page.waitForFunction(() => {
    const b = [...document.querySelectorAll('button')].find((x) => x.textContent === 'Join');
    return b && !b.disabled;
  });
  await button.click();
  await page.getByRole('navigation', { name: 'Studio controls' }).waitFor();
}
