// The host's and the guest's way through the app, in a real Chromium against a real server:
// sign up, dashboard, new session and its invite link, the session's page, sign out and in,
// a guest joining from the link, broken invite links, and addresses that lead nowhere.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, openPage, signInWithForm, startAppServer } from './lib/app.mjs';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

describe('the host and a guest', () => {
  let server;
  let browser;
  const host = { name: 'Ada Lovelace', email: `ada-${Date.now()}@example.com`, password: 'correct horse battery' };
  let roomId;
  let inviteUrl;

  before(async () => {
    server = await startAppServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('a new host signs up, starts with no sessions, creates one and gets its invite link', async () => {
    const page = await openPage(browser, server);
    await page.goto('/');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL('**/signup');

    // The form says what is wrong before asking the server.
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Enter your name.').waitFor();
    // The first field to fix gets the focus.
    await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'name');
    await page.getByLabel('Your name').fill(host.name);
    await page.getByLabel('Email').fill(host.email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Use at least 8 characters.').waitFor();
    assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Password').fill(host.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/dashboard');
    await page.getByRole('heading', { name: 'No sessions yet' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByText(host.name).waitFor();

    await page.getByRole('main').getByRole('link', { name: 'New session' }).click();
    await page.waitForURL('**/sessions/new');
    await page.getByRole('button', { name: 'Create session' }).click();
    await page.getByText('Give the session a title.').waitFor();
    await page.getByLabel('Session title').fill('Episode 1: Engines');
    const created = page.waitForResponse((r) => r.url().endsWith('/api/recordings') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Create session' }).click();
    assert.equal((await created).status(), 201);
    await page.getByRole('heading', { name: 'Your session is ready' }).waitFor();

    const link = page.getByLabel('Invite link for your guests');
    inviteUrl = await link.inputValue();
    const match = inviteUrl.match(new RegExp(`^${server.url}/join/(${UUID})\\?invite=.+$`));
    assert.ok(match, `invite link ${inviteUrl}`);
    roomId = match[1];

    await page.getByRole('button', { name: 'Copy link' }).click();
    await page.getByText('Link copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), inviteUrl);

    const studio = page.getByRole('link', { name: 'Enter studio' });
    assert.equal(await studio.getAttribute('href'), `/studio/${roomId}`);

    // The dashboard lists it; its card opens the session's page.
    await page.getByRole('link', { name: 'Sessions', exact: true }).click();
    const card = page.getByRole('list', { name: 'Sessions' }).getByRole('listitem').filter({ hasText: 'Episode 1: Engines' });
    await card.waitFor();
    await card.getByText('Not recorded yet').waitFor();
    await card.getByText('1 participant').waitFor();
    await card.getByRole('link', { name: 'Episode 1: Engines' }).click();
    await page.waitForURL(`**/recordings/${roomId}`);
    await page.getByRole('heading', { level: 1, name: 'Episode 1: Engines' }).waitFor();
    assert.equal(await page.getByLabel('Invite link', { exact: true }).inputValue(), inviteUrl);
    await page.getByRole('heading', { name: 'Participants' }).waitFor();
    await page.getByRole('listitem').filter({ hasText: host.name }).getByText('Host').waitFor();

    await page.getByRole('link', { name: 'Enter studio' }).click();
    await page.waitForURL(`**/studio/${roomId}`);

    assert.deepEqual(page.pageErrors, []);
    await page.context().close();
  });

  test('signing out ends the session; signing in again returns to the page that asked', async () => {
    const page = await openPage(browser, server);
    await signInWithForm(page, host);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/signin');
    assert.equal(await page.evaluate(() => localStorage.getItem('zencast.host')), null);

    // A protected page sends a signed-out visitor to sign in.
    await page.goto('/dashboard');
    await page.waitForURL('**/signin');
    await page.goto(`/recordings/${roomId}`);
    await page.waitForURL('**/signin');

    await page.getByLabel('Email').fill(host.email);
    await page.getByLabel('Password').fill('not the password');
    const refused = page.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.equal((await refused).status(), 401);
    await page.getByRole('alert').getByText("That email and password don't match an account.").waitFor();

    await page.getByLabel('Password').fill(host.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**/recordings/${roomId}`);
    await page.getByRole('heading', { level: 1, name: 'Episode 1: Engines' }).waitFor();

    // A reload keeps the session (tokens in localStorage, confirmed with GET /api/me).
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Episode 1: Engines' }).waitFor();

    assert.deepEqual(page.pageErrors, []);
    await page.context().close();
  });

  test('an email that has an account already is refused with a clear message', async () => {
    const page = await openPage(browser, server);
    await page.goto('/signup');
    await page.getByLabel('Your name').fill('Someone Else');
    await page.getByLabel('Email').fill(host.email.toUpperCase());
    await page.getByLabel('Password').fill('another good password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').getByText('An account with this email already exists.').waitFor();
    await page.context().close();
  });

  test('a guest opens the invite link in another browser, gives a name and lands in the studio', async () => {
    const guest = await openPage(browser, server);
    await guest.goto(inviteUrl);
    await guest.getByRole('heading', { level: 1, name: 'Join the session' }).waitFor();
    // Guests see no account links.
    assert.equal(await guest.getByRole('navigation', { name: 'Main' }).count(), 0);

    await guest.getByRole('button', { name: 'Join session' }).click();
    await guest.getByText('Enter your name.').waitFor();
    await guest.getByLabel('Your name').fill('Grace Hopper');
    const joined = guest.waitForResponse((r) => r.url().endsWith(`/api/rooms/${roomId}/join`));
    await guest.getByLabel('Your name').press('Enter'); // the keyboard is enough
    assert.equal((await joined).status(), 201);
    await guest.waitForURL(`**/studio/${roomId}`);

    const stored = await guest.evaluate((id) => ({
      token: localStorage.getItem(`zencast.participant.${id}`),
      me: JSON.parse(localStorage.getItem(`zencast.me.${id}`)),
      host: localStorage.getItem('zencast.host'),
    }), roomId);
    assert.match(stored.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(stored.me.name, 'Grace Hopper');
    assert.match(stored.me.participantId, new RegExp(`^${UUID}$`));
    assert.equal(stored.host, null);

    // Opening the link again offers to continue under the same name.
    await guest.goto(inviteUrl);
    await guest.getByRole('button', { name: 'Continue as Grace Hopper' }).click();
    await guest.waitForURL(`**/studio/${roomId}`);

    // The host sees the guest on the session's page.
    const page = await openPage(browser, server);
    await signInWithForm(page, host);
    await page.goto(`/recordings/${roomId}`);
    await page.getByRole('listitem').filter({ hasText: 'Grace Hopper' }).waitFor();

    assert.deepEqual(guest.pageErrors, []);
    await guest.context().close();
    await page.context().close();
  });

  test('broken invite links say what is wrong instead of failing silently', async () => {
    const guest = await openPage(browser, server);

    await guest.goto(`/join/${roomId}?invite=not-the-invite`);
    await guest.getByLabel('Your name').fill('Mallory');
    const refused = guest.waitForResponse((r) => r.url().endsWith(`/api/rooms/${roomId}/join`));
    await guest.getByRole('button', { name: 'Join session' }).click();
    assert.equal((await refused).status(), 403);
    await guest.getByRole('alert').getByRole('heading', { name: 'This invite link doesn’t work' }).waitFor();
    assert.equal(await guest.evaluate((id) => localStorage.getItem(`zencast.participant.${id}`), roomId), null);

    await guest.goto(`/join/00000000-0000-4000-8000-000000000000?invite=whatever`);
    await guest.getByLabel('Your name').fill('Mallory');
    await guest.getByRole('button', { name: 'Join session' }).click();
    await guest.getByRole('heading', { name: 'This session no longer exists' }).waitFor();

    await guest.goto(`/join/${roomId}`);
    await guest.getByRole('heading', { name: 'This invite link is incomplete' }).waitFor();

    assert.deepEqual(guest.pageErrors, []);
    await guest.context().close();
  });

  test('addresses that lead nowhere get a page that says so', async () => {
    const page = await openPage(browser, server);
    await page.goto('/no/such/page');
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();

    await signInWithForm(page, host);
    await page.goto('/recordings/00000000-0000-4000-8000-000000000000');
    await page.getByRole('heading', { level: 1, name: 'Session not found' }).waitFor();
    await page.goto('/recordings/not-a-uuid');
    await page.getByRole('heading', { level: 1, name: 'Session not found' }).waitFor();

    assert.deepEqual(page.pageErrors, []);
    await page.context().close();
  });
});
