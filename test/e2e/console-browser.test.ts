import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { SeedSubject } from '../../examples/adtech/seed';
import { auditDepsOf, readAuditEvents } from '../../lib/audit/log';
import type { LocalBackend } from '../../lib/cli/backends';
import type { RunningConsole } from '../../lib/console/server';
import { listHolds } from '../../lib/holds';
import { type HeadlessBrowser, saveScreenshot, startBrowser } from '../helpers/browser';
import { seriousAccessibilityViolations, startSeededConsole } from '../helpers/console';
import { richestSubject } from '../helpers/world';

/**
 * The console in headless Chromium on the seeded example: a privacy officer signs in, takes an
 * access and an erasure request from the form to completion, downloads the export, places and
 * releases a hold, runs a dry-run sweep and opens the audit and inventory pages. Every page is
 * screenshotted and checked with axe-core (no serious or critical violation).
 */
describe('lethe console in a browser', () => {
  let root: string;
  let backend: LocalBackend;
  let running: RunningConsole;
  let browser: HeadlessBrowser;
  let page: Page;
  let subjects: SeedSubject[];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-console-browser-'));
    const started = await startSeededConsole(join(root, 'state'));
    backend = started.backend;
    running = started.console;
    const richest = richestSubject(started.seed);
    subjects = [richest, ...started.seed.subjects.filter((subject) => subject !== richest)];
    browser = await startBrowser();
    page = await browser.page();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    await backend?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  /** Screenshot and accessibility check of the page as it is now. */
  async function look(name: string): Promise<void> {
    const shot = await saveScreenshot(page, `console-${name}`);
    expect(shot.bytes).toBeGreaterThan(5_000);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
  }

  /**
   * The submission answers once the request is started: the page says the workflow runs, and
   * staff reload it to follow the request (here every half second, at most two minutes).
   */
  async function reloadWhileRunning(): Promise<void> {
    for (let reloads = 0; reloads < 240; reloads++) {
      const status = await page.textContent('dl.facts .status');
      if (!['received', 'verifying', 'in-progress'].includes(status?.trim() ?? '')) return;
      expect(await page.textContent('.running')).toContain('reload this page');
      await page.waitForTimeout(500);
      await page.reload();
    }
    throw new Error('the request was still running after two minutes of reloads');
  }

  /** Submits a request from the form and follows it through review (every waiting store included) to its end. */
  async function submitAndFinish(type: 'access' | 'erasure', subject: SeedSubject): Promise<string> {
    await page.goto(`${running.url}/requests/new`);
    await page.selectOption('#type', type);
    await page.selectOption('#jurisdiction', 'gdpr');
    await page.selectOption('#identityType0', 'email');
    await page.fill('#identityValue0', subject.email);
    await page.selectOption('#verification', 'email-confirmation');
    await Promise.all([
      page.waitForURL(/\/requests\/[A-Za-z0-9_-]{8,}/),
      page.click('button:text("Submit and start")'),
    ]);
    const requestId = new URL(page.url()).pathname.split('/')[2] as string;
    await reloadWhileRunning();
    if ((await page.textContent('dl.facts'))?.includes('pending-review')) {
      await look(`${type}-review`);
      for (const radio of await page.locator('input[type=radio][value=include]').all()) await radio.check();
      await Promise.all([page.waitForURL(/done=action-done/), page.click('button:text("Review")')]);
    }
    expect(await page.textContent('dl.facts')).toContain('completed');
    // The page never shows the identity typed in: lists and pages name the subject by keyed hash.
    expect(await page.content()).not.toContain(subject.email);
    return requestId;
  }

  it('signs in once with the printed address, and the address does not work twice', async () => {
    await page.goto(running.loginUrl);
    await look('sign-in');
    await page.fill('#name', 'Dana Privacy');
    await Promise.all([page.waitForURL(/\/requests/), page.click('button:text("Sign in")')]);

    expect(await page.textContent('.who')).toContain('Dana Privacy');
    const again = await (await browser.page()).goto(running.loginUrl);
    expect(again?.status()).toBe(401);
  });

  it('takes an access request from the form to completion and downloads its export', async () => {
    const requestId = await submitAndFinish('access', subjects[0] as SeedSubject);
    await look('access-completed');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('a:text("Download the export package")'),
    ]);
    const zip = readFileSync((await download.path()) as string);
    expect(zip.subarray(0, 2).toString()).toBe('PK');
    expect(download.suggestedFilename()).toBe(`lethe-export-${requestId}.zip`);
  }, 180_000);

  it('takes an erasure request to completion with a valid certificate and a timeline chart', async () => {
    await submitAndFinish('erasure', subjects[1] as SeedSubject);

    expect(await page.textContent('main')).toContain('Erasure certificate');
    expect(await page.textContent('main')).toContain('valid');
    expect(await page.locator('svg rect.bar').count()).toBeGreaterThan(3);
    await look('erasure-completed');
    await page.goto(`${running.url}/requests`);
    await look('requests');
    expect(await page.locator('tbody tr').count()).toBe(2);
  }, 180_000);

  it('places a hold on a subject and releases it, both audited with the signed-in name', async () => {
    await page.goto(`${running.url}/holds`);
    await page.selectOption('#identityType', 'email');
    await page.fill('#identityValue', (subjects[2] as SeedSubject).email);
    await page.fill('#reason', 'Litigation hold, case 2026-0042');
    await Promise.all([page.waitForURL(/done=hold-placed/), page.click('button:text("Place hold")')]);
    await look('hold-placed');
    expect(await page.content()).not.toContain((subjects[2] as SeedSubject).email);

    await Promise.all([page.waitForURL(/done=hold-released/), page.click('button:text("Release")')]);
    await look('hold-released');
    const [hold] = await listHolds(backend.deps);
    expect(hold).toMatchObject({ status: 'released', placedBy: 'Dana Privacy', releasedBy: 'Dana Privacy' });
  });

  it('runs a dry-run sweep from the page', async () => {
    await page.goto(`${running.url}/sweeps`);
    await page.fill('#now', '2027-11-01T03:00:00Z');
    await page.selectOption('#mode', 'dry-run');
    await page.click('button:text("Run")');
    await page.waitForSelector('caption:text-matches("Dry run")');
    await look('sweep-dry-run');
    expect(await page.textContent('.notice')).toMatch(/Dry run .* finished/);
    // The sweep is audited as started by the signed-in staff member; its pages and totals by lethe.
    const events = await readAuditEvents(auditDepsOf(backend.deps));
    expect(events.filter((event) => event.type === 'sweep.started').map((event) => event.actor)).toEqual([
      'Dana Privacy',
    ]);
    expect(events.find((event) => event.type === 'sweep.completed')?.actor).toBe('lethe:sweep');
  }, 180_000);

  it('opens the audit page with the chain intact and the period report', async () => {
    await page.goto(`${running.url}/audit?from=2026-01-01&to=2028-01-01`);
    await look('audit');
    expect(await page.textContent('main')).toContain('Intact');
    expect(await page.textContent('dl.facts')).toMatch(/Received\s*2/);
  });

  it('opens the data inventory, every store of the data map listed', async () => {
    await page.goto(`${running.url}/inventory`);
    await look('inventory');
    const rows = await page.locator('table.inventory tbody tr').count();
    expect(rows).toBe(backend.deps.dataMap.stores.length);
  });
});
