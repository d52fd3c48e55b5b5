import type { DataMap, Store } from '../datamap/schema';
import type { RequestRecord } from './request';

/**
 * The export's index.html: what a person reads to learn what is held about them and why, without
 * opening a JSON file. One table of their data per store with readable column names, and every
 * item GDPR Art. 15 asks for (purposes, categories, recipients, retention, rights, complaint,
 * source, automated decisions, transfers). Every value from a store or the data map is escaped.
 */

/** Records shown per store on the page; the rest are in the store's JSON file, which the page names. */
export const PAGE_RECORDS_PER_STORE = 200;

/** One store's part of the page: its records (up to PAGE_RECORDS_PER_STORE) and its files. */
export interface PageStore {
  store: Store;
  exported: number;
  /** Of them, records whose processing is restricted at the subject's request (GDPR Art. 18). */
  restricted: number;
  files: string[];
  /** Records as exported (`data` of each), for the table. */
  records: unknown[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

const DURATION_UNITS: [RegExp, string][] = [
  [/(\d+)Y/, 'year'],
  [/(\d+)M/, 'month'],
  [/(\d+)W/, 'week'],
  [/(\d+)D/, 'day'],
];
const TIME_UNITS: [RegExp, string][] = [
  [/(\d+)H/, 'hour'],
  [/(\d+)M/, 'minute'],
  [/(\d+)S/, 'second'],
];

/** An ISO-8601 duration in words: P3Y → "3 years", P1Y6M → "1 year and 6 months", PT12H → "12 hours". */
export function durationInWords(duration: string): string {
  const [datePart = '', timePart = ''] = duration.replace(/^P/, '').split('T');
  const words: string[] = [];
  const add = (pattern: RegExp, unit: string, text: string) => {
    const count = Number(pattern.exec(text)?.[1] ?? 0);
    if (count > 0) words.push(`${count} ${unit}${count === 1 ? '' : 's'}`);
  };
  for (const [pattern, unit] of DURATION_UNITS) add(pattern, unit, datePart);
  for (const [pattern, unit] of TIME_UNITS) add(pattern, unit, timePart);
  if (words.length === 0) return duration;
  return words.length === 1 ? (words[0] as string) : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/** An attribute or category segment as words: `createdAt` → "Created at", `cookie-id` → "Cookie id". */
export function humanise(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A data category as the data map names it for people, else its last segment in words. */
export function categoryLabel(dataMap: Pick<DataMap, 'categories'>, category: string): string {
  return dataMap.categories?.[category]?.label ?? humanise(category.split('.').at(-1) ?? category);
}

/**
 * Whether a store goes into a portability export (GDPR Art. 20: data the subject provided): when
 * the data map describes its categories, only stores holding a category marked
 * `providedBySubject`; a data map that describes none exports every store.
 */
export function providedBySubject(dataMap: Pick<DataMap, 'categories'>, store: Store): boolean {
  if (!dataMap.categories) return true;
  return store.categories.some((category) => dataMap.categories?.[category]?.providedBySubject === true);
}

const LAWFUL_BASES: Record<Store['lawfulBasis'], string> = {
  consent: 'your consent (Art. 6(1)(a))',
  contract: 'a contract with you, or steps you asked for before one (Art. 6(1)(b))',
  'legal-obligation': 'a legal obligation we have (Art. 6(1)(c))',
  'vital-interests': 'protecting your or another person’s vital interests (Art. 6(1)(d))',
  'public-task': 'a task in the public interest (Art. 6(1)(e))',
  'legitimate-interests': 'our legitimate interests (Art. 6(1)(f))',
};

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function recordsTable(page: PageStore): string {
  const rows = page.records.filter((record): record is Record<string, unknown> => {
    return record !== null && typeof record === 'object' && !Array.isArray(record);
  });
  if (rows.length === 0) return '';
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const header = columns
    .map((column) => `<th scope="col">${escapeHtml(page.store.fields?.[column] ?? humanise(column))}</th>`)
    .join('');
  const body = rows
    .map(
      (row) =>
        `<tr>${columns.map((column) => `<td>${escapeHtml(cellText(row[column]))}</td>`).join('')}</tr>`,
    )
    .join('\n');
  const more =
    page.exported > rows.length
      ? `<p>${page.exported - rows.length} more record(s) are in the file <code>data/${escapeHtml(page.store.id)}.json</code>.</p>`
      : '';
  return `<table class="data"><caption>Your data in ${escapeHtml(page.store.description ?? page.store.id)}</caption>
<thead><tr>${header}</tr></thead>
<tbody>
${body}
</tbody></table>${more}`;
}

function storeSection(dataMap: DataMap, page: PageStore): string {
  const { store } = page;
  const retention = store.retention
    ? `${durationInWords(store.retention.period)}, then ${store.retention.action === 'delete' ? 'deleted' : 'anonymised'}`
    : 'until you ask us to erase it';
  const files = page.files
    .filter((file) => file.startsWith('files/'))
    .map(
      (file) =>
        `<li><a href="${escapeHtml(file)}">${escapeHtml(file.replace(/^files\/[^/]+\//, ''))}</a></li>`,
    )
    .join('');
  return `<section><h2>${escapeHtml(store.description ?? store.id)}</h2>
<dl>
<dt>What it holds</dt><dd>${escapeHtml(store.categories.map((category) => categoryLabel(dataMap, category)).join(', '))}</dd>
<dt>Why we process it</dt><dd>${escapeHtml(store.purpose)}</dd>
<dt>On what lawful basis</dt><dd>${escapeHtml(LAWFUL_BASES[store.lawfulBasis])}</dd>
<dt>Who receives it</dt><dd>${escapeHtml(store.recipients.join(', ') || 'no one outside our organisation')}</dd>
<dt>Where it came from</dt><dd>${escapeHtml(store.source)}</dd>
<dt>How long we keep it</dt><dd>${escapeHtml(retention)}</dd>
${store.exemptions.map((exemption) => `<dt>Kept even if you ask for erasure</dt><dd>${escapeHtml(exemption.reason)}</dd>`).join('\n')}
<dt>Records</dt><dd>${page.exported} (all in <a href="data/${escapeHtml(store.id)}.json">data/${escapeHtml(store.id)}.json</a>)</dd>${
    page.restricted > 0
      ? `\n<dt>Restricted</dt><dd>${page.restricted} of them: processing restricted at your request (GDPR Art. 18), only stored</dd>`
      : ''
  }
</dl>
${recordsTable(page)}${files ? `<p>Files:</p><ul>${files}</ul>` : ''}
</section>`;
}

/** Statements of the organisation and of the stores that add their own. */
function statements(
  organisation: string | undefined,
  stores: PageStore[],
  pick: (store: Store) => string | undefined,
  none: string,
): string {
  const perStore = stores
    .map(({ store }) => [store, pick(store)] as const)
    .filter((entry): entry is readonly [Store, string] => entry[1] !== undefined)
    .map(
      ([store, text]) =>
        `<li><strong>${escapeHtml(store.description ?? store.id)}:</strong> ${escapeHtml(text)}</li>`,
    )
    .join('');
  return `<p>${escapeHtml(organisation ?? none)}</p>${perStore ? `<ul>${perStore}</ul>` : ''}`;
}

/** Renders index.html for an export package. */
export function renderIndexHtml(
  dataMap: DataMap,
  record: RequestRecord,
  generatedAt: string,
  stores: PageStore[],
  controller: string,
): string {
  const organisation = dataMap.organisation;
  const contact = organisation?.contact ? ` Write to ${escapeHtml(organisation.contact)}.` : '';
  const sources = [...new Set(stores.map(({ store }) => store.source))];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your data: request ${escapeHtml(record.requestId)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.4;color:#111}table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{border:1px solid #888;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#eee}caption{text-align:left;font-weight:600;padding:.3rem 0}dl{display:grid;grid-template-columns:14rem 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}section{border-top:2px solid #ccc;margin-top:1.5rem}</style>
</head><body><main>
<h1>A copy of your personal data</h1>
<p>From ${escapeHtml(controller)}, for request ${escapeHtml(record.requestId)} (${escapeHtml(record.type)}, ${escapeHtml(record.jurisdiction.toUpperCase())}), received ${escapeHtml(record.receivedAt.slice(0, 10))}, prepared ${escapeHtml(generatedAt.slice(0, 10))}.${contact}</p>
<p>Each section below is one place where we keep data about you: what it holds, why, on what basis, who receives it, where it came from, how long we keep it, and the data itself. The files in this package hold the same data in machine-readable form; <code>manifest.json</code> describes them.</p>
${stores.map((page) => storeSection(dataMap, page)).join('\n')}
<section id="rights"><h2>Your rights</h2>
<ul>
<li><strong>Rectification</strong> (Art. 16): have data about you that is wrong corrected, or incomplete data completed.</li>
<li><strong>Erasure</strong> (Art. 17): have your data erased, unless the law requires us to keep it (the sections above say where).</li>
<li><strong>Restriction</strong> (Art. 18): have us only store your data, not use it, while its accuracy or our use of it is in question.</li>
<li><strong>Objection</strong> (Art. 21): object to processing based on our legitimate interests, and at any time to direct marketing and profiling for it.</li>
<li><strong>Portability</strong> (Art. 20): receive the data you gave us in a machine-readable form, or have it sent to another controller.</li>
<li><strong>Withdrawing consent</strong> (Art. 7(3)): where we rely on your consent, withdraw it at any time, without affecting what was done before.</li>
</ul>
<p>To exercise any of them, contact ${escapeHtml(organisation?.contact ?? controller)}.</p>
</section>
<section id="complaint"><h2>Complaining to a supervisory authority</h2>
<p>You may complain to a data protection supervisory authority, in particular in the country where you live or work or where you think your rights were infringed (Art. 77)${organisation?.supervisoryAuthority ? `; ours is ${escapeHtml(organisation.supervisoryAuthority)}` : ''}.</p>
</section>
<section id="sources"><h2>Where your data came from</h2>
<ul>${sources.map((source) => `<li>${escapeHtml(source)}</li>`).join('')}</ul>
</section>
<section id="automated-decisions"><h2>Automated decision-making</h2>
${statements(organisation?.automatedDecisions, stores, (store) => store.automatedDecisions, 'None declared by the controller.')}
</section>
<section id="transfers"><h2>Transfers outside the EU/EEA</h2>
${statements(organisation?.transfers, stores, (store) => store.transfers, 'None declared by the controller.')}
</section>
</main></body></html>
`;
}
