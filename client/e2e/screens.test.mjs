// Every page at 1280x800 and 390x844: no horizontal scrollbar, and a full-page screenshot of
// each for people to look at (the folder is printed).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { captureAtEachSize, launchBrowser, openPage, registerHost, screenshotDir, signInWithForm, startAppServer } from './lib/app.mjs';

const LONG_TITLE = 'A conversation with a remarkably long title, to see that nothing spills out of its card on a phone';

let server;
let browser;

before(async () => {
  server = await startAppServer();
  browser = await launchBrowser();
  console.log(`screenshots in ${await screenshotDir()}`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the pages anyone can open', async () => {
  const page = await openPage(browser, server);
  await page.goto('/');
  await page.getByRole('heading', { level: 1 }).waitFor();
  await captureAtEachSize(page, 'home');

  await page.goto('/signin');
  await captureAtEachSize(page, 'signin');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Enter your email address.').waitFor();
  await captureAtEachSize(page, 'signin-errors');

  await page.goto('/signup');
  await captureAtEachSize(page, 'signup');

  await page.goto('/nothing-here');
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await captureAtEachSize(page, 'not-found');
  assert.deepEqual(page.pageErrors, []);
  await page.context().close();
});

test("the host's pages", async () => {
  const host = await registerHost(server);
  const page = await openPage(browser, server);
  await signInWithForm(page, host);
  await page.getByRole('heading', { name: 'No sessions yet' }).waitFor();
  await captureAtEachSize(page, 'dashboard-empty');

  await page.goto('/sessions/new');
  await page.getByLabel('Session title').waitFor();
  await captureAtEachSize(page, 'new-session');
  await page.getByLabel('Session title').fill(LONG_TITLE);
  await page.getByRole('button', { name: 'Create session' }).click();
  await page.getByRole('heading', { name: 'Your session is ready' }).waitFor();
  await captureAtEachSize(page, 'session-created');

  for (const title of ['Episode 2: Compilers', 'Episode 3: Cobol']) {
    const res = await server.request('POST', '/api/recordings', { token: host.accessToken, body: { title } });
    assert.equal(res.status, 201);
  }
  await page.goto('/dashboard');
  await page.getByRole('link', { name: 'Episode 3: Cobol' }).waitFor();
  await captureAtEachSize(page, 'dashboard');

  await page.getByRole('link', { name: LONG_TITLE }).click();
  await page.getByRole('heading', { name: 'Participants' }).waitFor();
  await captureAtEachSize(page, 'recording-new');

  await page.goto('/recordings/00000000-0000-4000-8000-000000000000');
  await page.getByRole('heading', { name: 'Session not found' }).waitFor();
  await captureAtEachSize(page, 'recording-not-found');
  assert.deepEqual(page.pageErrors, []);
  await page.context().close();
});

test("the guest's pages", async () => {
  const host = await registerHost(server);
  const res = await server.request('POST', '/api/recordings', { token: host.accessToken, body: { title: 'Guest pages' } });
  const { roomId, inviteUrl } = res.body.recording;
  const guest = await openPage(browser, server);
  await guest.goto(inviteUrl);
  await guest.getByLabel('Your name').waitFor();
  await captureAtEachSize(guest, 'join');

  await guest.goto(`/join/${roomId}?invite=wrong`);
  await guest.getByLabel('Your name').fill('Grace');
  await guest.getByRole('button', { name: 'Join session' }).click();
  await guest.getByRole('heading', { name: 'This invite link doesn’t work' }).waitFor();
  await captureAtEachSize(guest, 'join-invalid');

  await guest.goto(inviteUrl);
  await guest.getByLabel('Your name').fill('Grace');
  await guest.getByRole('button', { name: 'Join session' }).click();
  await guest.waitForURL(`**/studio/${roomId}`);
  await guest.goto(inviteUrl);
  await guest.getByRole('button', { name: 'Continue as Grace' }).waitFor();
  await captureAtEachSize(guest, 'join-again');
  assert.deepEqual(guest.pageErrors, []);
  await guest.context().close();
});
