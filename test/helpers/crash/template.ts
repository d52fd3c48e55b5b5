import { join } from 'node:path';
import { type AdtechSeed, writeSeedFiles } from '../../../examples/adtech/seed';
import { initWithSeed, snapshotStateDir } from '../cli';
import type { SnapshotEntry } from '../world';

/**
 * A state directory initialised with the ad-tech example and `seed`, made once and copied per kill
 * trial (a copy costs milliseconds, an import seconds). Returns every record of every store in it.
 */
export async function seededTemplate(
  work: string,
  seed: AdtechSeed,
): Promise<{ template: string; records: Map<string, SnapshotEntry> }> {
  const template = join(work, 'template');
  writeSeedFiles(seed, join(work, 'seed'));
  const failed = await initWithSeed(template, join(work, 'seed'));
  if (failed.length > 0)
    throw new Error(`the seeded state directory could not be made: ${JSON.stringify(failed)}`);
  return { template, records: await snapshotStateDir(template) };
}
