/**
 * Renders the median of several runs from bench/results/latest.json as Markdown, for
 * docs/BENCHMARKS.md: `npx tsx bench/summarize.ts [--last N] [--skip I,J] [--file FILE]`.
 *
 * Runs are combined cell by cell: a numeric cell becomes the median over the runs (with the
 * range in the notes of the table when it spreads by more than 10%); any other cell is taken from
 * the newest run. Only runs with the same arguments as the newest one are combined.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type BenchRun, type Cell, type Row, renderTable, type Table } from './support/report';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function roundLike(value: number, samples: number[]): number {
  return samples.every(Number.isInteger) ? Math.round(value) : Math.round(value * 10) / 10;
}

/**
 * One table over several runs: numeric cells become medians. The note says how many cells spread
 * by more than 10% between runs, and names the widest spread.
 */
function combine(tables: Table[]): Table {
  const newest = tables[tables.length - 1]!;
  let cells = 0;
  let spread = 0;
  let widest: { relative: number; text: string } | undefined;
  const rows: Row[] = newest.rows.map((row, rowIndex) => {
    const combined: Row = {};
    for (const [key, value] of Object.entries(row)) {
      const samples = tables
        .map((table) => table.rows[rowIndex]?.[key])
        .filter((cell): cell is number => typeof cell === 'number');
      if (typeof value !== 'number' || samples.length !== tables.length) {
        combined[key] = value;
        continue;
      }
      const middle = roundLike(median(samples), samples);
      combined[key] = middle;
      cells += 1;
      const low = Math.min(...samples);
      const high = Math.max(...samples);
      const relative = middle === 0 ? 0 : (high - low) / Math.abs(middle);
      if (relative <= 0.1) continue;
      spread += 1;
      if (!widest || relative > widest.relative) {
        const label = Object.values(row)
          .filter((cell): cell is string => typeof cell === 'string')
          .join(' ');
        widest = {
          relative,
          text: `${label}, ${newest.columns[key] ?? key}: ${low.toLocaleString('en-US')}–${high.toLocaleString('en-US')}`,
        };
      }
    }
    return combined;
  });
  const notes = [...(newest.notes ?? [])];
  if (tables.length > 1) {
    notes.push(
      `Median of ${tables.length} runs; ${spread} of ${cells} numbers spread by more than 10% between runs${widest ? ` (widest: ${widest.text})` : ''}`,
    );
  }
  return { ...newest, rows, notes };
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string', default: resolve(__dirname, 'results', 'latest.json') },
      last: { type: 'string', default: '3' },
      skip: { type: 'string' },
    },
  });
  const all = JSON.parse(readFileSync(values.file, 'utf8')) as BenchRun[];
  const skip = new Set((values.skip ?? '').split(',').filter(Boolean).map(Number));
  const candidates = all.filter((_, index) => !skip.has(index + 1));
  const newest = candidates[candidates.length - 1];
  if (!newest) throw new Error(`no runs in ${values.file}`);
  const same = candidates.filter((run) => JSON.stringify(run.argv) === JSON.stringify(newest.argv));
  const runs = same.slice(-Number(values.last));
  const out: string[] = [
    `Runs combined: ${runs.map((run) => `${run.startedAt} (${run.machine.git?.commit ?? 'unknown commit'}${run.machine.git?.dirty ? ', modified' : ''})`).join(', ')}`,
    '',
  ];
  for (const result of newest.results) {
    const results = runs.flatMap((run) => run.results.filter((r) => r.scenario === result.scenario));
    out.push(`## ${result.scenario}`, '');
    result.tables.forEach((table, index) => {
      const same = results.map((r) => r.tables[index]).filter((t): t is Table => t?.title === table.title);
      out.push(renderTable(combine(same)));
    });
    const goalRows: Record<string, Cell>[] = result.goals.map((goal) => {
      const outcomes = results.flatMap((r) => r.goals.filter((g) => g.goal === goal.goal));
      const met = outcomes.filter((g) => g.met).length;
      return { goal: goal.goal, met: `${met} of ${outcomes.length}`, measured: goal.measured };
    });
    if (goalRows.length > 0) {
      out.push(
        renderTable({
          title: 'Goals',
          columns: { goal: 'Goal', met: 'Met (runs)', measured: 'Measured (newest run)' },
          rows: goalRows,
        }),
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main(process.argv.slice(2));
