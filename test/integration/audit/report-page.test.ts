import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildPeriodReport, reportHtml } from '../../../lib/audit/report';
import { type HeadlessBrowser, saveScreenshot, startBrowser } from '../../helpers/browser';
import { REPORT_NOW, REPORT_PERIOD, REPORT_REQUESTS, REPORT_SWEEPS } from '../../helpers/report';

/**
 * The HTML period report as a person sees it: opened in headless Chromium, it shows the figures and
 * the charts (a screenshot that is not blank), needs nothing from the network, and has no serious
 * or critical accessibility violation (axe-core).
 */
const AXE_SCRIPT = join(process.cwd(), 'node_modules', 'axe-core', 'axe.min.js');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** Runs axe-core in the page and returns its violations. */
async function accessibilityViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE_SCRIPT });
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: () => Promise<{ violations: AxeViolation[] }> } })
      .axe;
    const result = await axe.run();
    return result.violations.map(({ id, impact, help, nodes }) => ({
      id,
      impact,
      help,
      nodes: nodes.map((node) => ({ target: node.target })),
    }));
  });
}

describe('the HTML period report in a browser', () => {
  let browser: HeadlessBrowser;
  let page: Page;
  const requested: string[] = [];
  const report = buildPeriodReport({
    ...REPORT_PERIOD,
    now: REPORT_NOW,
    requests: REPORT_REQUESTS,
    sweeps: REPORT_SWEEPS,
  });

  beforeAll(async () => {
    browser = await startBrowser();
    page = await browser.page();
    page.on('request', (request) => requested.push(request.url()));
    await page.setContent(reportHtml(report), { waitUntil: 'load' });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows the figures and the per-request rows as text a person reads', async () => {
    // act
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person sees
    const text = await page.innerText('body');
    const allRows = page.locator('table').first().locator('tbody tr');
    const allRow = await allRows.first().locator('th, td').allInnerTexts();

    // assess: 7 received, 2 completed, 3 denied, 2 overdue, 2 open, median 4, mean 13.4
    expect(await allRows.count()).toBe(1);
    expect(allRow.map((cell) => cell.trim())).toEqual(['all', '7', '2', '3', '2', '2', '4', '13.4']);
    expect(text).toContain('identity not verified: 2');
    expect(text).toContain('Data-subject requests, 2026-01-01 to 2026-04-01');
    for (const row of report.requests) expect(text).toContain(row.requestId);
  });

  it('draws its three charts with bars, and asks the network for nothing', async () => {
    // act
    const charts = await page.$$eval('svg', (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        // the first rect is the chart's white background; the bars follow it
        return {
          width: box.width,
          height: box.height,
          bars: svg.querySelectorAll('rect[height]').length - 1,
        };
      }),
    );

    // assess
    expect(charts).toHaveLength(3);
    for (const chart of charts) {
      expect(chart.width).toBeGreaterThan(100);
      expect(chart.height).toBeGreaterThan(100);
      expect(chart.bars).toBeGreaterThan(0);
    }
    expect(requested.filter((url) => !url.startsWith('about:') && !url.startsWith('data:'))).toEqual([]);
  });

  it('renders to a screenshot that is not blank', async () => {
    // act
    const shot = await saveScreenshot(page, 'audit-report');

    // assess: a blank page compresses to a few hundred bytes; this one holds tables and charts
    expect(shot.bytes).toBeGreaterThan(20_000);
  });

  it('has no serious or critical accessibility violation', async () => {
    // act
    const violations = await accessibilityViolations(page);

    // assess
    const severe = violations.filter((violation) => ['serious', 'critical'].includes(violation.impact ?? ''));
    expect(severe).toEqual([]);
  });
});
