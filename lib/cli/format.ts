import type { Identity } from '../datamap/identity';
import type { LegalHold } from '../holds';
import type { HistoryEvent } from '../local/execution';
import type { SweepCounts } from '../retention';
import type { StoreOutcome } from '../rights/request';
import type { RequestSummary } from '../rights/summary';
import type { TrustPath } from '../rights/trust';
import type { SweepOutcome } from './backends';

/**
 * Text as it can be shown on a terminal: control characters (ESC starts a terminal escape
 * sequence), direction marks and other invisible format characters are shown as \u{…} escapes,
 * so what someone typed cannot rewrite the screen or hide itself.
 */
export function printable(text: string): string {
  return text.replace(
    /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu,
    (character) => `\\u{${(character.codePointAt(0) ?? 0).toString(16)}}`,
  );
}

/**
 * The identities a request was submitted with, each as normalised (what lethe locates and hashes
 * by) and, where it differs, as typed, so whoever typed it sees what was understood. Identifiers:
 * for the terminal of the person who typed them only, never for --json, a file or a log.
 */
export function describeSubject(given: readonly { argument: string; identity: Identity }[]): string {
  return given
    .map(({ argument, identity }) => {
      const typed = argument.slice(argument.indexOf('=') + 1);
      const asGiven = typed === identity.value ? '' : ` (as given: '${printable(typed)}')`;
      return `  subject: ${printable(identity.type)}=${printable(identity.value)}${asGiven}`;
    })
    .join('\n');
}

/** Renders rows as a left-aligned text table with a header line. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => String(row[column] ?? '').length)),
  );
  const line = (cells: (string | number)[]) =>
    cells
      .map((cell, column) =>
        typeof cell === 'number'
          ? String(cell).padStart(widths[column]!)
          : String(cell).padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Per-store counts of a request. */
export function storesTable(stores: StoreOutcome[], type: string): string {
  if (stores.length === 0) return '  (no per-store results)';
  const exporting = type === 'access' || type === 'portability';
  // Shown only when review excluded something, so the usual table keeps its shape.
  const excluded = stores.some((store) => (store.excludedByReview ?? 0) > 0);
  const headers = [
    ...(exporting
      ? ['store', 'located', 'exported']
      : ['store', 'located', 'erased', 'masked', 'exempted', 'remaining']),
    ...(excluded ? ['excluded by review'] : []),
  ];
  const rows = stores.map((store) => [
    ...(exporting
      ? [store.store, store.located, store.exported]
      : [store.store, store.located, store.erased, store.masked, store.exempted, store.remaining]),
    ...(excluded ? [store.excludedByReview ?? 0] : []),
  ]);
  return table(headers, rows)
    .split('\n')
    .map((text) => `  ${text}`)
    .join('\n');
}

/** A request summary for people: status line, counts, export, certificate or error. */
export function describeRequest(summary: RequestSummary): string {
  const lines = [
    `Request ${summary.requestId}: ${summary.type} (${summary.jurisdiction.toUpperCase()}) — ${summary.status}`,
    `  received ${summary.receivedAt}, due ${summary.dueAt}${summary.completedAt ? `, ended ${summary.completedAt}` : ''}`,
  ];
  if (summary.reason) lines.push(`  reason: ${printable(summary.reason)}`);
  lines.push(...describeDecisions(summary));
  if (summary.stores.length > 0) lines.push(storesTable(summary.stores, summary.type));
  if (summary.export?.deletedAt) {
    lines.push(`  export package: deleted ${summary.export.deletedAt} by a later erasure of the same person`);
  } else if (summary.export) {
    lines.push(
      `  export package: ${summary.export.path ?? '(not available)'} (${summary.export.bytes} bytes, sha256 ${summary.export.sha256.slice(0, 16)}…)`,
    );
    if (summary.export.url?.startsWith('file:')) lines.push(`  open: ${summary.export.url}`);
    else if (summary.export.url)
      lines.push(`  download link (expires ${summary.export.expiresAt}): ${summary.export.url}`);
  }
  const certificate = summary.certificate as {
    certificateId?: string;
    digest?: string;
    issuedAt?: string;
    exportsDeleted?: unknown[];
  } | null;
  if (certificate?.digest) {
    lines.push(
      `  erasure certificate ${certificate.certificateId} issued ${certificate.issuedAt}, sha256 ${certificate.digest}`,
    );
    const deleted = certificate.exportsDeleted?.length ?? 0;
    if (deleted > 0) lines.push(`  earlier export packages of this person deleted: ${deleted}`);
  }
  if (summary.error) {
    lines.push(
      `  error: ${summary.error.code}${summary.error.state ? ` in ${summary.error.state}` : ''}: ${printable(summary.error.message)}`,
    );
  }
  lines.push(...describeReview(summary));
  if (summary.attempt > 1) lines.push(`  attempt ${summary.attempt}`);
  lines.push(...describeCaveats(summary));
  if (summary.status === 'failed') {
    lines.push(
      `  it keeps what it resolved: finish it with "lethe request retry ${summary.requestId} --by NAME", or end it with "lethe request close ${summary.requestId} --by NAME --reason TEXT"`,
    );
  }
  return lines.join('\n');
}

/** Approval, extension and what a request waiting for approval needs. */
function describeDecisions(summary: RequestSummary): string[] {
  const lines: string[] = [];
  if (summary.status === 'pending-approval') {
    lines.push(
      `  waits for approval: "lethe request approve ${summary.requestId} --by NAME" (not the submitter), or "lethe request deny ${summary.requestId} --by NAME --reason REASON --note TEXT"`,
    );
  }
  if (summary.approval) lines.push(`  approved by ${printable(summary.approval.by)} ${summary.approval.at}`);
  if (summary.extension) {
    lines.push(
      `  extended by ${summary.extension.days} days (due ${summary.extension.previousDueAt} before) by ${printable(summary.extension.by)}: ${printable(summary.extension.reason)}`,
    );
  }
  return lines;
}

/** A keyed hash as a screen shows it: enough to compare, short enough to read. */
function shortHash(hash: string): string {
  return hash.length > 18 ? `${hash.slice(0, 18)}…` : hash;
}

/** A link path in one line: `email hs256:… → inquiries.phone (claimed) → phone hs256:…`. */
export function describePath(path: TrustPath): string {
  return [
    `${path.from.identity} ${shortHash(path.from.hash)}`,
    ...path.steps.map(
      (step) => `${step.store}.${step.attribute} (${step.trust}) → ${step.identity} ${shortHash(step.hash)}`,
    ),
  ].join(' → ');
}

/** The stores waiting for review with counts and paths, and the decisions made: lines for describeRequest. */
function describeReview(summary: RequestSummary): string[] {
  const review = summary.review;
  if (!review) return [];
  const lines: string[] = [];
  if (summary.status === 'pending-review') {
    lines.push(
      "  waiting for review: records only claimed links reached (values people typed, which can be someone else's):",
    );
    const rows = review.stores.flatMap((store) => {
      const paths = store.paths.length > 0 ? store.paths.map(describePath) : ['(path no longer known)'];
      return paths.map((path, index) => (index === 0 ? [store.store, store.records, path] : ['', '', path]));
    });
    lines.push(
      table(['store', 'records', 'reached through'], rows)
        .split('\n')
        .map((text) => `  ${text}`)
        .join('\n'),
    );
    lines.push(`  decide every store: ${review.command ?? `lethe request review ${summary.requestId}`}`);
  }
  // One line per review: the decisions one `lethe request review` recorded share who, when and note.
  const reviews = new Map<string, { head: string; included: string[]; excluded: string[] }>();
  for (const decision of review.decisions) {
    const head = `  review of attempt ${decision.attempt} by ${printable(decision.by)} at ${decision.at}${decision.note ? ` (${printable(decision.note)})` : ''}`;
    const id = `${decision.attempt}\u0000${decision.at}\u0000${head}`;
    const entry = reviews.get(id) ?? { head, included: [], excluded: [] };
    (decision.decision === 'include' ? entry.included : entry.excluded).push(decision.store);
    reviews.set(id, entry);
  }
  for (const { head, included, excluded } of reviews.values()) {
    const parts = [
      ...(included.length > 0 ? [`included ${included.join(', ')}`] : []),
      ...(excluded.length > 0 ? [`excluded ${excluded.join(', ')}`] : []),
    ];
    lines.push(`${head}: ${parts.join('; ')}`);
  }
  return lines;
}

/** What the answer cannot vouch for, from the last `lethe check` of the stores it searched. */
function describeCaveats(summary: RequestSummary): string[] {
  const lines: string[] = [];
  const unchecked = summary.caveats.filter((caveat) => caveat.kind === 'never-checked');
  for (const caveat of summary.caveats) {
    if (caveat.kind === 'unreachable-values') {
      lines.push(
        `  caveat: ${caveat.storeId} held ${caveat.count} record(s) whose value locate cannot reach (lethe check, ${caveat.checkedAt}); such records of this person are not in this answer`,
      );
    } else if (caveat.kind === 'unreadable-records') {
      lines.push(
        `  caveat: ${caveat.storeId} held ${caveat.count} line(s) or object(s) no rule can read (lethe check, ${caveat.checkedAt})`,
      );
    }
  }
  if (unchecked.length > 0) {
    lines.push(
      `  caveat: ${unchecked.length} store(s) searched were never checked for values in other spellings (${unchecked.map((caveat) => caveat.storeId).join(', ')}): run lethe check`,
    );
  }
  return lines;
}

/**
 * An execution's timeline: each top-level state with when it started and how long it took,
 * Map states with their iteration count, and every retry and failure on its own line.
 */
export function describeHistory(events: HistoryEvent[]): string {
  if (events.length === 0) return '  (no history: the request never ran)';
  const start = Date.parse(events[0]!.at);
  const offset = (at: string) => `+${((Date.parse(at) - start) / 1000).toFixed(3)}s`;
  const entered = new Map<string, string>();
  const iterations = new Map<string, number>();
  const rows: string[][] = [];
  for (const event of events) {
    const inMap = event.index !== undefined;
    if (event.type === 'MapIterationStarted' && event.state) {
      iterations.set(event.state, (iterations.get(event.state) ?? 0) + 1);
    } else if (event.type === 'StateEntered' && !inMap && event.state) {
      entered.set(event.state, event.at);
      // A later attempt enters the same Map again: count its iterations afresh.
      iterations.delete(event.state);
    } else if (event.type === 'StateExited' && !inMap && event.state) {
      const began = entered.get(event.state) ?? event.at;
      const count = iterations.get(event.state);
      rows.push([
        offset(began),
        `${((Date.parse(event.at) - Date.parse(began)) / 1000).toFixed(3)}s`,
        event.state,
        count === undefined ? 'ok' : `ok, ${count} iteration(s)`,
      ]);
    } else if (event.error || event.type.startsWith('Execution')) {
      const where = `${event.state ?? ''}${inMap ? `[${event.index}]` : ''}`;
      const what = event.error
        ? `${event.type}: ${printable(event.error)}${event.attempt ? ` (attempt ${event.attempt})` : ''}`
        : event.type;
      rows.push([offset(event.at), '', where, what]);
    }
  }
  return table(['at', 'took', 'state', 'outcome'], rows)
    .split('\n')
    .map((text) => `  ${text}`)
    .join('\n');
}

/** A sweep's per-store counts and totals, or its error. A dry run says what it "would" do. */
export function describeSweep(outcome: SweepOutcome): string {
  const summary = outcome.summary;
  const lines = [
    `Sweep ${outcome.sweepId}: ${outcome.status}${summary?.dryRun ? ' (dry run: nothing changed)' : ''}`,
  ];
  if (summary) {
    const dryRun = summary.dryRun;
    // A dry run purges and anonymises nothing: its columns are what a sweep would do.
    const purged = (counts: SweepCounts) => (dryRun ? counts.wouldPurge : counts.purged);
    const anonymised = (counts: SweepCounts) => (dryRun ? counts.wouldAnonymise : counts.anonymised);
    lines.push(
      `  retention measured from ${summary.now}${summary.durationMs === null ? '' : `, took ${(summary.durationMs / 1000).toFixed(1)} s`}`,
    );
    const rows = summary.stores.map((store) => [
      store.storeId,
      `${store.period} ${store.action}`,
      store.examined,
      store.expired,
      purged(store),
      anonymised(store),
      store.alreadyAnonymised,
      store.held,
      store.locked,
      store.skipped,
    ]);
    lines.push(
      table(
        [
          'store',
          'rule',
          'examined',
          'expired',
          dryRun ? 'would purge' : 'purged',
          dryRun ? 'would anonymise' : 'anonymised',
          'already anonymised',
          'held',
          'locked',
          'skipped',
        ],
        rows,
      )
        .split('\n')
        .map((text) => `  ${text}`)
        .join('\n'),
    );
    const { totals } = summary;
    lines.push(
      `  in total: ${dryRun ? 'would purge' : 'purged'} ${purged(totals)}, ${dryRun ? 'would anonymise' : 'anonymised'} ${anonymised(totals)}, ` +
        `${totals.alreadyAnonymised} already anonymised, ${totals.held} held, ${totals.locked} locked, ${totals.skipped} skipped`,
    );
  }
  if (outcome.error) lines.push(`  error: ${outcome.error.code}: ${printable(outcome.error.message)}`);
  return lines.join('\n');
}

/** What a hold covers, without the identifier it was placed by. */
export function describeHoldScope(hold: LegalHold): string {
  return hold.scope === 'subject'
    ? `subject by ${hold.identityType ?? 'identity'}, ${hold.identityCount ?? 1} linked identit${hold.identityCount === 1 ? 'y' : 'ies'}`
    : `record ${printable(hold.recordKey ?? '')} in ${hold.storeId ?? '?'}`;
}
