// What the browser tests share: a real `zencast serve` serving the built app (client/dist),
// Debian's Chromium (/work/shared/e2e-recipe.md), screenshots and layout checks.
//
// The server comes from the HTTP suite's harness (server/tests/http/lib/server.mjs): ZENCAST_BIN
// names the binary, each server gets a temporary DATA_DIR and is removed by stop().
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { freePort, startServer } from '../../../server/tests/http/lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const DIST_DIR = path.resolve(here, '../../dist');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium';

export const VIEWPORTS = {
  laptop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
};

/** `zencast serve` on a free port serving client/dist; PUBLIC_URL is its own address, so invite links open here. */
export async function startAppServer(env = {}) {
  try {
    await fs.access(path.join(DIST_DIR, 'index.html'));
  } catch {
    throw new Error(`${DIST_DIR}/index.html is missing: build the web app first (cd client && npm run build)`);
  }
  const port = await freePort();
  return startServer({ port, env: { STATIC_DIR: DIST_DIR, PUBLIC_URL: `http://127.0.0.1:${port}`, ...env } });
}

/** Headless Chromium with the recipe's flags. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream=fps=30',
      '--allow-loopback-in-peer-connection',
    ],
  });
}

/**
 * A fresh browser context (its own storage, like another person's browser) and a page in it.
 * Uncaught page errors fail the test that called check() (see pageErrors).
 */
export async function openPage(browser, server, { viewport = VIEWPORTS.laptop } = {}) {
  const context = await browser.newContext({ baseURL: server.url, viewport });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.pageErrors = errors;
  return page;
}

/** Where screenshots go: E2E_SCREENSHOT_DIR, else one folder under the temp dir, printed once. */
export async function screenshotDir() {
  const dir = process.env.E2E_SCREENSHOT_DIR || path.join(os.tmpdir(), 'zencast-e2e-screenshots');
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/** The page has no horizontal scrollbar (nothing is wider than the window). */
export async function assertNoHorizontalScroll(page, what) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `${what}: the page is ${scrollWidth}px wide in a ${innerWidth}px window`);
}

/** At each size: no horizontal scrollbar, and a full-page screenshot `<name>-<size>.png`. */
export async function captureAtEachSize(page, name) {
  const dir = await screenshotDir();
  const original = page.viewportSize();
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    await assertNoHorizontalScroll(page, `${name} at ${size}`);
    await page.screenshot({ path: path.join(dir, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
}

/** Registers a host through the API (faster than the form when the form is not under test). */
export async function registerHost(server, { name = 'Ada Lovelace', email, password = 'correct horse battery' } = {}) {
  email ??= `host-${Math.random().toString(16).slice(2)}@example.com`;
  const res = await server.request('POST', '/api/auth/register', { body: { name, email, password } });
  assert.equal(res.status, 201, res.text);
  return { ...res.body, email, password, name };
}

/** Signs in through the form on /signin; resolves once the dashboard shows. */
export async function signInWithForm(page, { email, password }) {
  await page.goto('/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/dashboard');
}
