/**
 * Types of the one module of hyparquet-compressors lethe imports (its index would also bundle a
 * Brotli decoder, a gzip decoder and a WebAssembly Snappy that node's zlib and hyparquet's own
 * Snappy make unnecessary).
 */
declare module 'hyparquet-compressors/src/lz4.js' {
  export function decompressLz4(input: Uint8Array, outputLength: number): Uint8Array;
  export function decompressLz4Raw(input: Uint8Array, outputLength: number): Uint8Array;
}
