import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SeedSubject } from '../../examples/adtech/seed';
import type { RequestSummary } from '../../lib/rights/summary';
import { type HeadlessBrowser, saveScreenshot, startBrowser } from '../helpers/browser';
import { includeAllInReview, lethe, requestSubmitArgs, seedStateDir } from '../helpers/cli';
import { exampleSeed, richestSubject } from '../helpers/world';
import { unzip } from '../helpers/zip';

/**
 * The export answers Art. 15 on its own: the package's index.html, opened in headless Chromium,
 * shows the subject's data in tables with readable column names, durations and category labels in
 * words, and the sections on rights, complaints, sources, automated decisions and transfers.
 */
describe('the export page', () => {
  let root: string;
  let stateDir: string;
  let subject: SeedSubject;
  let browser: HeadlessBrowser;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-export-page-'));
    stateDir = join(root, 'state');
    const seed = exampleSeed(3, 2);
    subject = richestSubject(seed);
    await seedStateDir(stateDir, seed);
    browser = await startBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const exportOf = async (type: 'access' | 'portability', requestId: string) => {
    const run = await lethe(
      requestSubmitArgs(stateDir, type, [`email=${subject.email}`], ['--request-id', requestId]),
    );
    const summary = await includeAllInReview(stateDir, JSON.parse(run.out) as RequestSummary);
    expect(summary.status).toBe('completed');
    return unzip(readFileSync(summary.export!.path!));
  };

  it("shows the subject's values and every Art. 15 section in a browser", async () => {
    // prepare: the package unpacked where the browser can open it
    const files = await exportOf('access', 'page-access-0001');
    const dir = join(root, 'access');
    for (const [name, content] of files) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), content);
    }

    // act
    const page = await browser.page();
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
    const text = await page.locator('body').innerText();
    const rights = await page.locator('#rights').innerText();
    const headers = await page.locator('table.data th').allInnerTexts();
    const screenshot = await saveScreenshot(page, 'export-page-access');
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
    const violations = await page.evaluate(async () => {
      const axe = (
        globalThis as unknown as {
          axe: { run: () => Promise<{ violations: { id: string; impact: string }[] }> };
        }
      ).axe;
      return (await axe.run()).violations.filter((violation) =>
        ['serious', 'critical'].includes(violation.impact),
      );
    });

    // assess
    expect(text).toContain(subject.email);
    for (const right of ['Rectification', 'Erasure', 'Restriction', 'Objection', 'Portability'])
      expect(rights).toContain(right);
    expect(text).toContain('Complaining to a supervisory authority');
    expect(text).toContain('Example Data Protection Authority');
    expect(text).toContain('Where your data came from');
    expect(text).toContain('Automated decision-making');
    expect(text).toContain('Standard Contractual Clauses');
    expect(text).toContain('13 months, then deleted');
    expect(text).toContain('Cookie identifier');
    expect(headers).toEqual(expect.arrayContaining(['Email address', 'Your message']));
    expect(screenshot.bytes).toBeGreaterThan(20_000);
    expect(violations).toEqual([]);
  }, 180_000);

  it('puts into a portability package only the stores holding data the subject provided', async () => {
    // act
    const files = await exportOf('portability', 'page-portability-0001');

    // assess
    const data = [...files.keys()].filter((name) => name.startsWith('data/')).sort();
    expect(data).toContain('data/inquiries.json');
    expect(data).not.toContain('data/ad-events.json');
    expect(data).not.toContain('data/clickstream.json');
  }, 180_000);
});
