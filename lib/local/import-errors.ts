/** Input to import that is wrong: nothing was written. */
export class ImportError extends Error {
  override readonly name = 'ImportError';
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
