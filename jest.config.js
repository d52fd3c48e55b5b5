/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
    // ES-module-only packages, which Jest on Node 20 cannot require, compiled to CommonJS for the
    // tests: cookie 2 (what fastify's inject parses cookies with) and the Parquet libraries.
    '/node_modules/(cookie|hyparquet|hyparquet-writer|hyparquet-compressors|hysnappy|fzstd)/.+\\.js$': [
      '@swc/jest',
      { jsc: { target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: [
    '/node_modules/(?!(cookie|hyparquet|hyparquet-writer|hyparquet-compressors|hysnappy|fzstd)/)',
  ],
  setupFilesAfterEnv: ['<rootDir>/test/helpers/setup.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
  // A worker that has finished its files still has to tear down a heap of several hundred MB
  // (garbage from the local servers and CDK synths, not yet collected): about 100-200 ms on an
  // idle machine, 400 ms and more on a loaded one. Jest's default 500 ms grace then kills it and
  // reports a leak that is not there. A real leak (a live server, socket or timer) still keeps
  // the worker past this limit and is still reported.
  workerGracefulExitTimeout: 5_000,
};
