/**
 * Input to import that is wrong: nothing was written. The message is the summary, a complete
 * sentence on its own, then one line for each bad line, file or item (`details`).
 */
export class ImportError extends Error {
  override readonly name = 'ImportError';
  constructor(
    /** The first line: what is wrong, that nothing was imported, and the fix. */
    readonly summary: string,
    /** One line per bad line, file or item, each naming where it is; never a value. */
    readonly details: readonly string[] = [],
  ) {
    super([summary, ...details].join('\n'));
  }
}

/**
 * An import that passed its checks but could not write everything (throttling that outlasted the
 * retries, the store failing): `written` items were stored. Importing the same input again is safe,
 * since an item with the same key replaces the stored one and an object with the same key too.
 */
export class ImportIncompleteError extends Error {
  override readonly name = 'ImportIncompleteError';
  constructor(
    message: string,
    readonly written: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
