import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { SeedSubject } from '../../../examples/adtech/seed';
import type { HistoryEvent } from '../../local/execution';
import { packageRoot } from '../../local/package-root';
import type { RequestSummary } from '../../rights/summary';
import { EXIT, UsageError } from '../errors';
import { describeHistory, describeRequest } from '../format';
import { quoted, wholeNumber } from '../input';
import type { CliIo } from '../io';
import { keepFindings } from './check';
import { type CommandContext, type CommonOptions, common, localPaths } from './shared';

/** Where the example data map sits in the package; the demo names it by this path. */
export const EXAMPLE_DATAMAP = 'examples/adtech/datamap.yaml';

/**
 * The example data map on disk, found from the package rather than the working directory, so the
 * demo runs from anywhere, from the sources or from the compiled copy in dist/ alike.
 */
const exampleDataMapFile = () => join(packageRoot(), EXAMPLE_DATAMAP);

/** Shows an identifier the way a screen in a privacy office should: enough to recognise, not to copy. */
function obscure(value: string): string {
  const at = value.indexOf('@');
  if (at > 0) return `${value[0]}***${value.slice(at)}`;
  return `${value.slice(0, 3)}***${value.slice(-2)}`;
}

/** The demo subject: one reached through links in every store, a billing and a marketing contact. */
function demoSubject(subjects: SeedSubject[]): SeedSubject {
  const reach = (subject: SeedSubject) =>
    Object.values(subject.owns).filter((count) => count > 0).length + subject.partnerRoles.length;
  return [...subjects].sort((a, b) => reach(b) - reach(a))[0]!;
}

/** Marks a state directory the demo made, which the next demo may delete and make again. */
const DEMO_MARKER = '.lethe-demo';

/**
 * The demo starts from an empty state directory and deletes what is there: only a directory that
 * is missing, empty or one it made before. Anything else may be someone's environment or files.
 */
function checkDemoStateDir(stateDir: string): void {
  if (!existsSync(stateDir)) return;
  const refuse = (what: string) =>
    new UsageError(
      `${stateDir} ${what}; the demo deletes its state directory and starts afresh, so give --state-dir a new or empty folder (default .lethe/demo)`,
    );
  if (!statSync(stateDir).isDirectory()) throw refuse('is not a folder');
  const entries = readdirSync(stateDir);
  if (entries.length > 0 && !entries.includes(DEMO_MARKER)) throw refuse('holds files the demo did not make');
}

export interface DemoResult {
  access: RequestSummary;
  erasure: RequestSummary;
  history: HistoryEvent[];
  failed: boolean;
}

/**
 * The whole product on one screen: seeds the ad-tech example into a fresh state directory,
 * runs an access and an erasure request for a subject known only by email (the other
 * identities are found through links), and prints findings, package, certificate and history.
 */
export async function runDemo(options: {
  stateDir: string;
  subjects: number;
  io: CliIo;
  json: boolean;
}): Promise<DemoResult> {
  const { io } = options;
  const say = (text: string) => {
    if (!options.json) io.out(text);
  };
  const started = Date.now();
  const stateDir = resolve(options.stateDir);
  checkDemoStateDir(stateDir);
  rmSync(stateDir, { recursive: true, force: true });

  const { generateAdtechSeed } =
    require('../../../examples/adtech/seed') as typeof import('../../../examples/adtech/seed');
  const { checkStores } = require('../../check') as typeof import('../../check');
  const { openLocalEnvironment } =
    require('../../local/environment') as typeof import('../../local/environment');
  const { importSeed } = require('../../local/import') as typeof import('../../local/import');
  const { LocalBackend } = require('../backends/local') as typeof import('../backends/local');
  const env = await openLocalEnvironment({ stateDir, dataMapPath: exampleDataMapFile(), init: true });
  writeFileSync(
    join(stateDir, DEMO_MARKER),
    'made by lethe demo, which deletes this folder when it runs again\n',
  );
  const seed = generateAdtechSeed({ subjects: options.subjects, recordsPerSubject: 5 });
  let unreachable: number;
  try {
    await importSeed(env.dataMap, seed, env.clients);
    // What lethe check finds is what every request says it cannot vouch for.
    const check = await checkStores(env.deps);
    await keepFindings(env.deps, check);
    unreachable = check.wouldMiss;
  } finally {
    await env.close();
  }
  const records =
    Object.values(seed.dynamodb).reduce((sum, items) => sum + items.length, 0) +
    Object.values(seed.s3).reduce((sum, objects) => sum + objects.length, 0);
  say(`lethe demo — state in ${stateDir}`);
  say(
    `Seeded the ad-tech example (${EXAMPLE_DATAMAP}): ${seed.subjects.length} people, ${records} items and objects in ${env.dataMap.stores.length} stores.`,
  );
  say(
    unreachable === 0
      ? 'lethe check: every locate rule reaches every record it covers.'
      : `lethe check: ${unreachable} record(s) hold values locate cannot reach (see lethe check).`,
  );

  const subject = demoSubject(seed.subjects);
  say(
    `\nSubject: known to the privacy team by email ${obscure(subject.email)} only; lethe follows the data map's links to ` +
      `${subject.cookieIds.length} cookie id(s) and a phone number.`,
  );

  const backend = await LocalBackend.open({ stateDir });
  try {
    const verification = { method: 'email-confirmation' as const, verifiedBy: 'demo privacy desk' };
    const base = {
      subject: [{ type: 'email', value: subject.email }],
      jurisdiction: 'gdpr' as const,
      channel: 'cli' as const,
      verification,
    };

    /**
     * The example's links are claimed (typed into a form), so the records only they reach wait
     * for review. The demo's subject is the seed's own, so the desk includes every store.
     */
    const reviewed = async (summary: RequestSummary): Promise<RequestSummary> => {
      if (summary.status !== 'pending-review' || !summary.review) return summary;
      const stores = summary.review.stores.map((store) => store.store);
      say(
        `\n   The cookie ids and the phone number came from an inquiry form: anyone can type someone else's, so the records only they reach wait for review.\n   The privacy desk checks them (here they are the subject's own) and includes them:\n   lethe request review ${summary.requestId} --include ${stores.join(' ')} --by "demo privacy desk"`,
      );
      const done = await backend.review(summary.requestId, {
        include: stores,
        by: 'demo privacy desk',
        note: 'demo: the inquiry is the subject’s own',
      });
      say(describeRequest(done));
      return done;
    };

    say('\n1. Access request (GDPR Art. 15): what do we hold about this person?');
    const submittedAccess = (await backend.submit({ ...base, type: 'access' })).summary;
    say(describeRequest(submittedAccess));
    const access = await reviewed(submittedAccess);

    say('\n2. Erasure request (GDPR Art. 17): delete it, except what the law makes us keep.');
    const submittedErasure = (await backend.submit({ ...base, type: 'erasure' })).summary;
    say(describeRequest(submittedErasure));
    const erasure = await reviewed(submittedErasure);
    const certificate = erasure.certificate as {
      stores?: { store: string; exemptions?: { reason: string; count: number }[] }[];
    } | null;
    for (const store of certificate?.stores ?? []) {
      for (const exemption of store.exemptions ?? [])
        say(`  kept in ${store.store}: ${exemption.count} record(s), because ${exemption.reason}`);
    }

    const history = await backend.history(erasure.requestId);
    say(
      `\n3. The erasure's timeline, from the persisted execution history (lethe request history ${erasure.requestId}):`,
    );
    say(describeHistory(history));
    say(
      `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Try: lethe request list --state-dir ${options.stateDir}`,
    );
    const result = {
      access,
      erasure,
      history,
      failed: access.status !== 'completed' || erasure.status !== 'completed',
    };
    if (options.json) io.out(JSON.stringify({ access, erasure, history }, null, 2));
    return result;
  } finally {
    await backend.dispose();
  }
}

/** Adds `lethe demo`: the ad-tech example seeded and run end to end. */
export function addDemoCommand(program: Command, context: CommandContext): void {
  common(
    program
      .command('demo')
      .description(
        'Seed the ad-tech example into a fresh state directory and run an access and an erasure request.',
      )
      .option('--subjects <n>', 'subjects to seed', '60')
      .addHelpText('after', '\nExample:\n  lethe demo --state-dir .lethe/demo'),
  ).action(async (opts: CommonOptions & { subjects: string }) => {
    const subjects = wholeNumber(opts.subjects);
    if (!Number.isInteger(subjects) || subjects < 2 || subjects > 100_000) {
      throw new UsageError(
        `--subjects must be a whole number from 2 to 100000; got ${quoted(opts.subjects)}`,
      );
    }
    if (opts.datamap !== undefined) {
      throw new UsageError(`demo always runs the example data map ${EXAMPLE_DATAMAP}; leave out --datamap`);
    }
    localPaths(opts);
    const stateDir = opts.stateDir === '.lethe' ? '.lethe/demo' : (opts.stateDir ?? '.lethe/demo');
    const result = await runDemo({ stateDir, subjects, io: context.io, json: opts.json ?? false });
    if (result.failed) context.exitCode = EXIT.requestFailed;
  });
}
