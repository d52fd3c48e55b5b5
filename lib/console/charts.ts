import type { TimelineEntry } from '../audit/timeline';

/**
 * Charts as geometry: the templates draw these as inline SVG (no script, no chart library), so
 * every label goes through the template engine's escaping like any other value.
 */

export interface ChartBar {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Shown beside the bar. */
  label: string;
  /** The bar's tooltip and accessible text. */
  title: string;
  failed: boolean;
}

export interface Chart {
  width: number;
  height: number;
  /** What the chart shows, for screen readers. */
  description: string;
  bars: ChartBar[];
  /** Axis captions: position, text, and which end of the text the position is. */
  ticks: { x: number; y: number; text: string; anchor: 'start' | 'end' }[];
}

const LABEL_WIDTH = 220;
const ROW = 22;
const PLOT_WIDTH = 460;

/**
 * A request's timeline as a Gantt chart: a row per state that ran (entered to exited), placed on
 * one time axis from the first event to the last; failed states marked.
 */
export function timelineChart(entries: readonly TimelineEntry[]): Chart {
  const spans = entries
    .filter((entry) => entry.durationMs !== null && entry.source === 'execution')
    .map((entry) => {
      const end = Date.parse(entry.at);
      const duration = entry.durationMs ?? 0;
      const state = entry.what.replace(/^\S+\s+/, '');
      const failed = /fail|error|timed?out|abort/i.test(`${entry.what} ${entry.outcome ?? ''}`);
      return { start: end - duration, end, state, duration, failed, attempt: entry.attempt };
    });
  const failures = entries.filter(
    (entry) => entry.durationMs === null && /failed/i.test(`${entry.what} ${entry.outcome ?? ''}`),
  );
  const times = entries.map((entry) => Date.parse(entry.at)).filter(Number.isFinite);
  const first = Math.min(...times, ...spans.map((span) => span.start));
  const last = Math.max(...times, first + 1);
  const scale = PLOT_WIDTH / (last - first);
  const rows = [
    ...spans.map((span) => ({ ...span, point: false })),
    ...failures.map((entry) => ({
      start: Date.parse(entry.at),
      end: Date.parse(entry.at),
      state: entry.what,
      duration: 0,
      failed: true,
      attempt: entry.attempt,
      point: true,
    })),
  ].sort((a, b) => a.start - b.start);
  const bars = rows.map((row, index) => ({
    x: LABEL_WIDTH + (row.start - first) * scale,
    y: 10 + index * ROW,
    width: row.point ? 6 : Math.max(2, (row.end - row.start) * scale),
    height: ROW - 6,
    label: `${row.state}${row.attempt && row.attempt > 1 ? ` (attempt ${row.attempt})` : ''}`,
    title: row.point
      ? `${row.state} at ${new Date(row.start).toISOString()}`
      : `${row.state}: ${row.duration} ms${row.failed ? ', failed' : ''}`,
    failed: row.failed,
  }));
  const height = 40 + rows.length * ROW;
  return {
    width: LABEL_WIDTH + PLOT_WIDTH + 20,
    height,
    description: `Timeline: ${rows.length} state(s) over ${last - first} ms${failures.length ? `, ${failures.length} failure(s)` : ''}`,
    bars,
    ticks: rows.length
      ? [
          {
            x: LABEL_WIDTH,
            y: height - 8,
            text: new Date(first).toISOString().slice(11, 23),
            anchor: 'start',
          },
          { x: LABEL_WIDTH + PLOT_WIDTH, y: height - 8, text: `+${last - first} ms`, anchor: 'end' },
        ]
      : [],
  };
}

/** Horizontal bars, one per (label, value), scaled to the largest value. */
export function barChart(description: string, values: readonly { label: string; value: number }[]): Chart {
  const largest = Math.max(1, ...values.map((entry) => entry.value));
  const bars = values.map((entry, index) => ({
    x: LABEL_WIDTH,
    y: 10 + index * ROW,
    width: Math.max(1, (entry.value / largest) * PLOT_WIDTH),
    height: ROW - 6,
    label: entry.label,
    title: `${entry.label}: ${entry.value}`,
    failed: false,
  }));
  return {
    width: LABEL_WIDTH + PLOT_WIDTH + 60,
    height: 20 + values.length * ROW,
    description,
    bars,
    ticks: bars.map((bar, index) => ({
      x: bar.x + bar.width + 6,
      y: bar.y + ROW - 10,
      text: String(values[index]?.value ?? 0),
      anchor: 'start' as const,
    })),
  };
}
