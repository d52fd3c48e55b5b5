import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium, which `.ci/run` installs when it is missing; LETHE_CHROMIUM overrides. */
export const CHROMIUM_PATH = process.env.LETHE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Screenshots land here so a person can look at what the browser showed (CI keeps the folder
 * beside the test output); LETHE_SCREENSHOT_DIR overrides.
 */
export const SCREENSHOT_DIR =
  process.env.LETHE_SCREENSHOT_DIR ?? join(process.cwd(), 'test-output', 'screenshots');

// The machine's network is closed: without these, Chromium tries Google's hosts at every start
// and its refused connections slow it down.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface HeadlessBrowser {
  /** Opens a page in a context of its own, so cookies and storage never leak between tests. */
  page(): Promise<Page>;
  close(): Promise<void>;
}

/** Starts headless Chromium; Playwright gives each launch a fresh, empty profile of its own. */
export async function startBrowser(): Promise<HeadlessBrowser> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    async page() {
      const context = await browser.newContext();
      return context.newPage();
    },
    close: () => browser.close(),
  };
}

/**
 * Saves a full-page screenshot as SCREENSHOT_DIR/NAME.png and returns its path and size in
 * bytes (a blank page compresses to a few hundred bytes, which a test can assert against).
 */
export async function saveScreenshot(page: Page, name: string): Promise<{ path: string; bytes: number }> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^a-zA-Z0-9._-]+/g, '-')}.png`);
  const image = await page.screenshot({ path, fullPage: true });
  return { path, bytes: image.byteLength };
}
