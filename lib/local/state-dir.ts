import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataMap } from '../datamap/schema';
import { loadDataMapCached } from './datamap-cache';

/**
 * What a state directory records (which data map it runs, its keys), read without starting
 * anything: commands check their input against the data map before they open the environment,
 * and this module stays free of the servers and SDK clients so that checking is cheap.
 */

export const DEFAULT_STATE_DIR = '.lethe';

/** A state directory that was never initialised, or was initialised for another data map. */
export class LocalStateError extends Error {
  override readonly name = 'LocalStateError';
}

/** `<state-dir>/config.json`: written by init. */
export interface LocalConfig {
  version: 1;
  dataMapPath: string;
  createdAt: string;
}

/** Where a state directory option points, and the config init wrote there (if any). */
export function readLocalConfig(stateDirOption: string | undefined): {
  stateDir: string;
  configFile: string;
  existing: LocalConfig | undefined;
} {
  const stateDir = resolve(stateDirOption ?? DEFAULT_STATE_DIR);
  const configFile = join(stateDir, 'config.json');
  const existing = existsSync(configFile) ? readStateJson<LocalConfig>(configFile) : undefined;
  return { stateDir, configFile, existing };
}

/** A JSON file of the state directory; unreadable is a LocalStateError naming the file and the fix. */
export function readStateJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new LocalStateError(
      `${file} cannot be read (${(error as Error).message}); restore it from a backup or run init again`,
      { cause: error },
    );
  }
}

/** The data map a command runs with: the one it was given, or the one recorded at init. */
export function recordedDataMapPath(
  stateDir: string,
  existing: LocalConfig | undefined,
  options: { stateDir?: string; dataMapPath?: string },
): string {
  if (!existing) {
    throw new LocalStateError(
      `no lethe environment in ${stateDir}: run "lethe init --datamap FILE${options.stateDir ? ` --state-dir ${options.stateDir}` : ''}" first`,
    );
  }
  return options.dataMapPath ? resolve(options.dataMapPath) : existing.dataMapPath;
}

/**
 * The data map an (initialised) local environment runs with, read without opening it: no server
 * starts and nothing is written (the validated data map is read from the state directory's cache
 * when it is there, see datamap-cache.ts). Commands check their input against it before they open
 * anything.
 * @throws LocalStateError when the state directory was never initialised
 * @throws DataMapError when the data map cannot be used
 */
export function localDataMap(options: { stateDir?: string; dataMapPath?: string } = {}): {
  stateDir: string;
  dataMapPath: string;
  dataMap: DataMap;
} {
  const { stateDir, existing } = readLocalConfig(options.stateDir);
  const dataMapPath = recordedDataMapPath(stateDir, existing, options);
  return { stateDir, dataMapPath, dataMap: loadDataMapCached(stateDir, dataMapPath).dataMap };
}
