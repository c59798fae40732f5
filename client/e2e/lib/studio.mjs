// The studio's browser-test helpers: a session made through the pages as users make it, or
// through the REST API with a studio page opened with the tokens the login or join page would
// have stored; and the conditions the tests wait on.
import assert from 'node:assert/strict';

import { registerUser, uniqueEmail } from '../../../server/tests/http/lib/server.mjs';
import { VIEWPORTS } from './app.mjs';

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

/** A person's browser: a context of its own (its own storage), a page, and its console kept. */
export async function openPerson(browser, server, { viewport = VIEWPORTS.laptop, storage = {}, label }) {
  const context = await browser.newContext({ baseURL: server.url, viewport });
  await context.addInitScript((entries) => {
    for (const [key, value] of Object.entries(entries)) localStorage.setItem(key, value);
  }, storage);
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const logs = [];
  page.on('console', (m) => logs.push(`[${label} ${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[${label} pageerror] ${e.message}`));
  return { context, page, logs };
}

/** Keeps every RTCPeerConnection the page makes in window.peerConnections, for inspection. */
function keepPeerConnections() {
  const Original = window.RTCPeerConnection;
  window.peerConnections = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) {
      super(...args);
      window.peerConnections.push(this);
    }
  };
}

/** A browser context whose localStorage holds what the login or join page would have stored. */
export async function openStudio(browser, server, { viewport, storage, roomId, label, inspectPeers = false }) {
  const person = await openPerson(browser, server, { viewport, storage, label });
  if (inspectPeers) await person.context.addInitScript(keepPeerConnections);
  await person.page.goto(`${server.url}/studio/${roomId}`);
  return person;
}

/**
 * As a new host does it: signs up with the form, creates a session on the new-session page and
 * enters its studio. The invite link is the one the page shows; the host's tokens are the ones
 * the app stored (for the test's own API calls).
 */
export async function hostSignsUpAndCreatesSession(browser, server, { name, title }) {
  const person = await openPerson(browser, server, { label: 'host' });
  const { page } = person;
  await page.goto('/signup');
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Email').fill(uniqueEmail('host'));
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/dashboard');
  await page.getByRole('main').getByRole('link', { name: 'New session' }).click();
  await page.getByLabel('Session title').fill(title);
  await page.getByRole('button', { name: 'Create session' }).click();
  await page.getByRole('heading', { name: 'Your session is ready' }).waitFor();
  const inviteUrl = await page.getByLabel('Invite link for your guests').inputValue();
  const roomId = new URL(inviteUrl).pathname.split('/').at(-1);
  await page.getByRole('link', { name: 'Enter studio' }).click();
  await page.waitForURL(`**/studio/${roomId}`);
  const host = JSON.parse(await page.evaluate(() => localStorage.getItem('zencast.host')));
  assert.ok(host?.accessToken, 'the app stored the host\'s tokens');
  return { person, roomId, inviteUrl, host };
}

/** As a guest does it: opens the invite link in a browser of its own, gives a name, joins. */
export async function guestJoinsFromLink(browser, server, { inviteUrl, name }) {
  const person = await openPerson(browser, server, { label: 'guest' });
  const { page } = person;
  await page.goto(inviteUrl);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join session' }).click();
  const roomId = new URL(inviteUrl).pathname.split('/').at(-1);
  await page.waitForURL(`**/studio/${roomId}`);
  const me = JSON.parse(await page.evaluate((id) => localStorage.getItem(`zencast.me.${id}`), roomId));
  return { person, participantId: me.participantId };
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
