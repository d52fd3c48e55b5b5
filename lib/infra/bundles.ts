import { join } from 'node:path';
import { build } from 'esbuild';
import { CONSOLE_FUNCTIONS } from './console';
import { BUNDLE_MAIN_FIELDS, PROJECT_ROOT } from './lethe-function';
import type { LetheFunctionName } from './lethe-grants';
import { FUNCTION_SETTINGS } from './workflow-function';

/** Every function a stack may deploy: lethe's own and the console's. */
export type BundledFunctionName = LetheFunctionName | keyof typeof CONSOLE_FUNCTIONS;

/** Every function's handler file. */
export const BUNDLED_ENTRIES: Record<BundledFunctionName, string> = {
  ...(Object.fromEntries(
    Object.entries(FUNCTION_SETTINGS).map(([name, settings]) => [name, settings.entry]),
  ) as Record<LetheFunctionName, string>),
  ...(Object.fromEntries(
    Object.entries(CONSOLE_FUNCTIONS).map(([name, settings]) => [name, settings.entry]),
  ) as Record<keyof typeof CONSOLE_FUNCTIONS, string>),
};

/** One function's bundle as esbuild reports it. */
export interface FunctionBundle {
  name: BundledFunctionName;
  /** The minified JavaScript, without its source map. */
  bytes: number;
  /** Bytes in the bundle per input file (node_modules/... or a project path). */
  inputs: Record<string, number>;
  /** Where the bundle was written, when an output directory was given. */
  file?: string;
}

/**
 * Bundles every lethe function (and the console's) as the stack does (NodejsFunction: minified CommonJS for Node 22,
 * the AWS SDK bundled, BUNDLE_MAIN_FIELDS), in one esbuild run, and reads each bundle's size from
 * the metafile. With `outdir`, writes the bundles (and source maps) there as `<name>.js`.
 */
export async function bundleFunctions(outdir?: string): Promise<FunctionBundle[]> {
  const names = Object.keys(BUNDLED_ENTRIES) as BundledFunctionName[];
  const { metafile } = await build({
    entryPoints: Object.fromEntries(names.map((name) => [name, join(PROJECT_ROOT, BUNDLED_ENTRIES[name])])),
    // Metafile paths are then relative to the project root.
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    minify: true,
    sourcemap: outdir !== undefined,
    sourcesContent: false,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    mainFields: BUNDLE_MAIN_FIELDS,
    outdir: outdir ?? join(PROJECT_ROOT, 'cdk.out', 'bundles'),
    write: outdir !== undefined,
    metafile: true,
    logLevel: 'error',
  });
  return names.map((name) => {
    const [file, output] = Object.entries(metafile.outputs).find(
      ([path, candidate]) => candidate.entryPoint !== undefined && path.endsWith(`/${name}.js`),
    ) ?? [undefined, undefined];
    if (!output || !file) throw new Error(`esbuild wrote no bundle for ${name}`);
    return {
      name,
      bytes: output.bytes,
      inputs: Object.fromEntries(
        Object.entries(output.inputs).map(([input, { bytesInOutput }]) => [input, bytesInOutput]),
      ),
      ...(outdir !== undefined ? { file: join(PROJECT_ROOT, file) } : {}),
    };
  });
}

/** The package (or project folder) an input file of a bundle belongs to. */
export function ownerOf(input: string): string {
  const inModules = input.split('node_modules/').pop() ?? input;
  if (inModules !== input) {
    const parts = inModules.split('/');
    return (inModules.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
  }
  return input.split('/').slice(0, 2).join('/');
}

/** Bytes per package (or project folder) of a bundle, largest first. */
export function largestParts(bundle: FunctionBundle): [string, number][] {
  const byOwner = new Map<string, number>();
  for (const [input, bytes] of Object.entries(bundle.inputs)) {
    byOwner.set(ownerOf(input), (byOwner.get(ownerOf(input)) ?? 0) + bytes);
  }
  return [...byOwner].sort((a, b) => b[1] - a[1]);
}
