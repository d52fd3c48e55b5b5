import { runCli } from '../../lib/cli/program';
import { openLocalEnvironment } from '../../lib/local/environment';
import { type SnapshotEntry, snapshotStores } from './world';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the lethe CLI in-process, capturing what it prints. */
export async function lethe(args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    ...options,
    io: { out: (text) => (out += `${text}\n`), err: (text) => (err += `${text}\n`) },
  });
  return { code, out, err };
}

/** Everything in every store, read through a short-lived environment on the same state directory. */
export async function snapshotStateDir(stateDir: string): Promise<Map<string, SnapshotEntry>> {
  const env = await openLocalEnvironment({ stateDir });
  try {
    return await snapshotStores(env.dataMap, env.clients);
  } finally {
    await env.close();
  }
}
