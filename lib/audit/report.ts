/**
 * The period report auditors hand over: per request its type, jurisdiction, dates, days taken and
 * outcome, and the totals CCPA regulations (11 CCR §7102) ask large businesses to publish:
 * requests received, complied with, denied (by reason) and overdue, and the median and mean days
 * to respond, overall, per type and per jurisdiction. Counts, dates and reasons only: a request
 * record after completion holds no identifier, and none is read here.
 */

import type { AuditEvent } from './log';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A request as the report reads it (from the requests table). */
export interface ReportRequestInput {
  requestId: string;
  type: string;
  jurisdiction: string;
  status: string;
  receivedAt: string;
  dueAt: string;
  /** When the request was answered (completed, rejected, closed); null while open. */
  respondedAt: string | null;
  reason?: string | null;
}

/** What one sweep purged in one store (from its `sweep.page` audit events). */
export interface ReportSweepInput {
  at: string;
  storeId: string;
  purged: number;
  anonymised: number;
}

export interface ReportRow {
  requestId: string;
  type: string;
  jurisdiction: string;
  received: string;
  due: string;
  responded: string | null;
  /** Days from receipt to response, to one decimal; null while open. */
  daysTaken: number | null;
  outcome: string;
  denialReason: string | null;
  overdue: boolean;
}

export interface ReportFigures {
  received: number;
  completed: number;
  denied: number;
  deniedByReason: Record<string, number>;
  overdue: number;
  open: number;
  medianDaysToRespond: number | null;
  meanDaysToRespond: number | null;
}

export interface PeriodReport {
  from: string;
  to: string;
  generatedAt: string;
  requests: ReportRow[];
  totals: ReportFigures;
  byType: Record<string, ReportFigures>;
  byJurisdiction: Record<string, ReportFigures>;
  sweeps: ReportSweepInput[];
}

/**
 * What each sweep purged and anonymised per store, summed from the `sweep.page` events of real
 * (not dry) runs, dated by the sweep's first page in the store. Page events, not `sweep.completed`:
 * a page run again after its function died appends its event again, and both runs' records are
 * gone, while `sweep.completed` counts only the run whose result the state machine received.
 */
export async function sweepsFromEvents(
  events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>,
): Promise<ReportSweepInput[]> {
  const swept = new Map<string, ReportSweepInput>();
  for await (const event of events) {
    const details = event.details ?? {};
    if (event.type !== 'sweep.page' || details.dryRun === true || typeof details.storeId !== 'string')
      continue;
    const key = `${String(details.sweepId)}|${details.storeId}`;
    const entry = swept.get(key) ?? { at: event.at, storeId: details.storeId, purged: 0, anonymised: 0 };
    entry.purged += Number(details.purged ?? 0) || 0;
    entry.anonymised += Number(details.anonymised ?? 0) || 0;
    swept.set(key, entry);
  }
  return [...swept.values()];
}

/** Statuses that answer a request by refusing it. */
const DENIED = new Set(['rejected', 'denied']);

const round1 = (value: number) => Math.round(value * 10) / 10;

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return round1(
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2,
  );
}

function figures(rows: readonly ReportRow[]): ReportFigures {
  const days = rows.flatMap((row) => (row.daysTaken === null ? [] : [row.daysTaken]));
  const deniedByReason: Record<string, number> = {};
  for (const row of rows.filter((candidate) => DENIED.has(candidate.outcome))) {
    const reason = row.denialReason ?? 'unstated';
    deniedByReason[reason] = (deniedByReason[reason] ?? 0) + 1;
  }
  return {
    received: rows.length,
    completed: rows.filter((row) => row.outcome === 'completed').length,
    denied: rows.filter((row) => DENIED.has(row.outcome)).length,
    deniedByReason,
    overdue: rows.filter((row) => row.overdue).length,
    open: rows.filter((row) => row.responded === null).length,
    medianDaysToRespond: median(days),
    meanDaysToRespond:
      days.length === 0 ? null : round1(days.reduce((sum, day) => sum + day, 0) / days.length),
  };
}

function groupBy(rows: readonly ReportRow[], key: (row: ReportRow) => string): Record<string, ReportFigures> {
  const groups = new Map<string, ReportRow[]>();
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row]);
  return Object.fromEntries(
    [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([name, list]) => [name, figures(list)]),
  );
}

/** Invalid report input: a date that is not one, or a period that ends before it starts. */
export class InvalidReportPeriodError extends Error {
  override readonly name = 'InvalidReportPeriodError';
}

/**
 * The report over the requests received in [from, to): each request's row and the figures. A
 * request is overdue when it was answered after its due date, or is still open past it at `now`.
 * @throws InvalidReportPeriodError when the period is not a pair of dates in order
 */
export function buildPeriodReport(input: {
  from: string;
  to: string;
  now: Date;
  requests: readonly ReportRequestInput[];
  sweeps?: readonly ReportSweepInput[];
}): PeriodReport {
  const from = Date.parse(input.from);
  const to = Date.parse(input.to);
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) {
    throw new InvalidReportPeriodError(
      `the period must be two dates, the first before the second, e.g. --from 2026-01-01 --to 2027-01-01; got ${input.from} to ${input.to}`,
    );
  }
  const rows = input.requests
    .filter((request) => {
      const received = Date.parse(request.receivedAt);
      return received >= from && received < to;
    })
    .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.requestId.localeCompare(b.requestId))
    .map((request): ReportRow => {
      const received = Date.parse(request.receivedAt);
      const due = Date.parse(request.dueAt);
      const responded = request.respondedAt ? Date.parse(request.respondedAt) : null;
      return {
        requestId: request.requestId,
        type: request.type,
        jurisdiction: request.jurisdiction,
        received: request.receivedAt,
        due: request.dueAt,
        responded: request.respondedAt,
        daysTaken: responded === null ? null : round1((responded - received) / DAY_MS),
        outcome: request.status,
        denialReason: DENIED.has(request.status) ? (request.reason ?? null) : null,
        overdue: responded === null ? input.now.getTime() > due : responded > due,
      };
    });
  const sweeps = (input.sweeps ?? []).filter((sweep) => {
    const at = Date.parse(sweep.at);
    return at >= from && at < to;
  });
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    generatedAt: input.now.toISOString(),
    requests: rows,
    totals: figures(rows),
    byType: groupBy(rows, (row) => row.type),
    byJurisdiction: groupBy(rows, (row) => row.jurisdiction),
    sweeps,
  };
}

/** One CSV cell: quoted when it holds a separator, and never read as a formula by a spreadsheet. */
function cell(value: unknown): string {
  const raw = value === null || value === undefined ? '' : String(value);
  const text = /^[=+\-@\t\r]/.test(raw) && !/^-?\d+(\.\d+)?$/.test(raw) ? `'${raw}` : raw;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const FIGURE_COLUMNS = [
  'received',
  'completed',
  'denied',
  'overdue',
  'open',
  'medianDaysToRespond',
  'meanDaysToRespond',
] as const;

/**
 * The report as CSV: one row per request, then (after an empty line) one row of figures for all
 * requests, each type and each jurisdiction, then one row per denial reason.
 */
export function reportCsv(report: PeriodReport): string {
  const lines = [
    [
      'requestId',
      'type',
      'jurisdiction',
      'received',
      'due',
      'responded',
      'daysTaken',
      'outcome',
      'denialReason',
      'overdue',
    ].join(','),
    ...report.requests.map((row) =>
      [
        row.requestId,
        row.type,
        row.jurisdiction,
        row.received,
        row.due,
        row.responded,
        row.daysTaken,
        row.outcome,
        row.denialReason,
        row.overdue,
      ]
        .map(cell)
        .join(','),
    ),
    '',
    ['group', 'name', ...FIGURE_COLUMNS].join(','),
    ...[
      ['all', 'all', report.totals] as const,
      ...Object.entries(report.byType).map(([name, group]) => ['type', name, group] as const),
      ...Object.entries(report.byJurisdiction).map(([name, group]) => ['jurisdiction', name, group] as const),
    ].map(([group, name, values]) =>
      [group, name, ...FIGURE_COLUMNS.map((column) => values[column])].map(cell).join(','),
    ),
    '',
    ['deniedReason', 'count'].join(','),
    ...Object.entries(report.totals.deniedByReason).map(([reason, count]) =>
      [reason, count].map(cell).join(','),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function escapeHtml(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

const OUTCOME_COLOURS: Record<string, string> = {
  completed: '#2e7d32',
  rejected: '#c62828',
  denied: '#c62828',
  duplicate: '#757575',
  closed: '#ef6c00',
  failed: '#6a1b9a',
};

/** The Monday (UTC) of the week a date falls in. */
function weekOf(iso: string): string {
  const date = new Date(iso);
  const day = (date.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day))
    .toISOString()
    .slice(0, 10);
}

/** A bar chart as inline SVG: one bar per label, stacked by series, with a title and axis labels. */
function barChart(
  title: string,
  labels: string[],
  series: { name: string; colour: string; values: number[] }[],
): string {
  const width = 640;
  const height = 240;
  const left = 40;
  const bottom = 40;
  const totals = labels.map((_, index) => series.reduce((sum, entry) => sum + (entry.values[index] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const slot = (width - left - 10) / Math.max(1, labels.length);
  const bars: string[] = [];
  labels.forEach((label, index) => {
    let y = height - bottom;
    for (const entry of series) {
      const value = entry.values[index] ?? 0;
      if (value === 0) continue;
      const h = ((height - bottom - 20) * value) / max;
      y -= h;
      bars.push(
        `<rect x="${(left + index * slot + slot * 0.15).toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${entry.colour}"><title>${escapeHtml(`${label}: ${entry.name} ${value}`)}</title></rect>`,
      );
    }
    bars.push(
      `<text x="${(left + index * slot + slot / 2).toFixed(1)}" y="${height - bottom + 14}" font-size="9" text-anchor="middle">${escapeHtml(label)}</text>`,
    );
  });
  const legend = series
    .map(
      (entry, index) =>
        `<rect x="${left + index * 110}" y="${height - 14}" width="10" height="10" fill="${entry.colour}"/><text x="${left + index * 110 + 14}" y="${height - 5}" font-size="10">${escapeHtml(entry.name)}</text>`,
    )
    .join('');
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}"><rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/><line x1="${left}" y1="${height - bottom}" x2="${width - 10}" y2="${height - bottom}" stroke="#333"/><line x1="${left}" y1="10" x2="${left}" y2="${height - bottom}" stroke="#333"/><text x="4" y="20" font-size="10">${max}</text>${bars.join('')}${legend}</svg></figure>`;
}

function figuresTable(caption: string, groups: Record<string, ReportFigures>): string {
  const rows = Object.entries(groups)
    .map(
      ([name, values]) =>
        `<tr><th scope="row">${escapeHtml(name)}</th>${FIGURE_COLUMNS.map((column) => `<td>${escapeHtml(values[column] ?? '—')}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr><th scope="col">group</th>${FIGURE_COLUMNS.map((column) => `<th scope="col">${escapeHtml(column)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`;
}

/**
 * The report as one self-contained HTML page a person can read and print: the figures, per
 * request rows, and inline SVG charts (requests per week by outcome, distribution of days to
 * respond, records purged by sweeps per store over time). No script, no external asset.
 */
export function reportHtml(report: PeriodReport): string {
  const weeks = [...new Set(report.requests.map((row) => weekOf(row.received)))].sort();
  const outcomes = [...new Set(report.requests.map((row) => row.outcome))].sort();
  const perWeek = barChart(
    'Requests received per week, by outcome',
    weeks,
    outcomes.map((outcome) => ({
      name: outcome,
      colour: OUTCOME_COLOURS[outcome] ?? '#1565c0',
      values: weeks.map(
        (week) =>
          report.requests.filter((row) => row.outcome === outcome && weekOf(row.received) === week).length,
      ),
    })),
  );
  const buckets = ['0-7', '8-14', '15-30', '31-45', '46-90', '>90'];
  const bucketOf = (days: number) =>
    days <= 7 ? 0 : days <= 14 ? 1 : days <= 30 ? 2 : days <= 45 ? 3 : days <= 90 ? 4 : 5;
  const distribution = barChart('Days to respond', buckets, [
    {
      name: 'requests answered',
      colour: '#1565c0',
      values: buckets.map(
        (_, index) =>
          report.requests.filter((row) => row.daysTaken !== null && bucketOf(row.daysTaken) === index).length,
      ),
    },
  ]);
  const sweepDays = [...new Set(report.sweeps.map((sweep) => sweep.at.slice(0, 10)))].sort();
  const stores = [...new Set(report.sweeps.map((sweep) => sweep.storeId))].sort();
  const palette = ['#1565c0', '#2e7d32', '#ef6c00', '#6a1b9a', '#c62828', '#00838f', '#5d4037'];
  const purged = barChart(
    'Records purged or anonymised by retention sweeps, per store',
    sweepDays,
    stores.map((storeId, index) => ({
      name: storeId,
      colour: palette[index % palette.length] as string,
      values: sweepDays.map((day) =>
        report.sweeps
          .filter((sweep) => sweep.storeId === storeId && sweep.at.slice(0, 10) === day)
          .reduce((sum, sweep) => sum + sweep.purged + sweep.anonymised, 0),
      ),
    })),
  );
  const rows = report.requests
    .map(
      (row) =>
        `<tr><td>${escapeHtml(row.requestId)}</td><td>${escapeHtml(row.type)}</td><td>${escapeHtml(row.jurisdiction)}</td><td>${escapeHtml(row.received)}</td><td>${escapeHtml(row.due)}</td><td>${escapeHtml(row.responded ?? '—')}</td><td>${escapeHtml(row.daysTaken ?? '—')}</td><td>${escapeHtml(row.outcome)}</td><td>${escapeHtml(row.denialReason ?? '')}</td><td>${row.overdue ? 'yes' : 'no'}</td></tr>`,
    )
    .join('');
  const denied = Object.entries(report.totals.deniedByReason)
    .map(([reason, count]) => `<li>${escapeHtml(reason)}: ${count}</li>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lethe report ${escapeHtml(report.from.slice(0, 10))} to ${escapeHtml(report.to.slice(0, 10))}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:3px 6px;text-align:left}caption{font-weight:bold;text-align:left}figure{margin:1em 0}@media print{figure{break-inside:avoid}}</style>
</head><body><main>
<h1>Data-subject requests, ${escapeHtml(report.from.slice(0, 10))} to ${escapeHtml(report.to.slice(0, 10))}</h1>
<p>Generated ${escapeHtml(report.generatedAt)}. Figures as 11 CCR §7102 asks: requests received, complied with, denied and overdue, and the median and mean days to respond.</p>
${figuresTable('All requests', { all: report.totals })}
${figuresTable('By type', report.byType)}
${figuresTable('By jurisdiction', report.byJurisdiction)}
<h2>Denied, by reason</h2><ul>${denied || '<li>none</li>'}</ul>
${perWeek}
${distribution}
${purged}
<table><caption>Requests</caption><thead><tr><th>request</th><th>type</th><th>jurisdiction</th><th>received</th><th>due</th><th>responded</th><th>days</th><th>outcome</th><th>denial reason</th><th>overdue</th></tr></thead><tbody>${rows}</tbody></table>
</main></body></html>
`;
}
