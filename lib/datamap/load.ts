import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { DataMap } from './schema';
import { checkDataMap, DataMapError, type PathSegment } from './validate';

export { checkDataMap, DataMapError, type DataMapIssue, getStore, UnknownStoreError } from './validate';

function lineOf(
  root: Node | null,
  lineCounter: LineCounter,
  path: readonly PathSegment[],
): number | undefined {
  const lineAt = (node: unknown): number | undefined => {
    const range = (node as Node | null | undefined)?.range;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  };
  // Walk as deep as the document goes: a missing key reports the line of its parent. A mapping
  // entry reports the line of its key, which is where a block value (on the next lines) is named.
  let node: unknown = root;
  let line = lineAt(root);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) break;
      line = lineAt(pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      const itemLine = lineAt(node);
      if (itemLine === undefined) break;
      line = itemLine;
    } else {
      break;
    }
  }
  return line;
}
/**
 * Parses and validates a data map from YAML text.
 * @param source the YAML text
 * @param file the file name used in error messages
 * @throws DataMapError naming the file, each path and line, what is wrong and the fix
 */
export function parseDataMap(source: string, file = '<data map>'): DataMap {
  const lineCounter = new LineCounter();
  // logLevel error: problems are reported in the DataMapError, never printed as process warnings
  const document = parseDocument(source, {
    lineCounter,
    prettyErrors: true,
    uniqueKeys: true,
    logLevel: 'error',
  });
  if (document.errors.length > 0) {
    throw new DataMapError(
      file,
      document.errors.map((error) => ({
        path: '',
        line: error.linePos?.[0]?.line,
        message: `YAML syntax: ${error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    );
  }
  let content: unknown;
  try {
    content = document.toJS();
  } catch (error) {
    // yaml throws (rather than reporting) for an alias without its anchor and for alias bombs
    throw new DataMapError(file, [
      {
        path: '',
        message: `YAML: ${(error as Error).message}; a data map needs no anchors or aliases, write the values out`,
      },
    ]);
  }
  return checkDataMap(content, file, (path) => lineOf(document.contents, lineCounter, path));
}

/**
 * Reads, parses and validates a data map file.
 * @throws DataMapError when the file is missing, is not YAML, or does not describe a valid data map
 */
export function loadDataMap(file: string): DataMap {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataMapError(file, [
      {
        path: '',
        message:
          code === 'ENOENT'
            ? 'file not found: pass an existing data map, e.g. --datamap examples/adtech/datamap.yaml'
            : `cannot read the file (${code ?? 'unknown error'})`,
      },
    ]);
  }
  return parseDataMap(source, file);
}
