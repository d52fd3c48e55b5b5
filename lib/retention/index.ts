/**
 * Retention sweeps: the domain API (the CLI, the sweep steps and the tests use
 * these; nothing here builds clients or reads the environment).
 */
export { addCounts, COUNT_NAMES, type SweepCounts, type SweepDeps, zeroCounts } from './context';
export * from './errors';
export {
  cutoff,
  isExpired,
  maxPeriodDays,
  parseDuration,
  storesWithRetention,
} from './rules';
export {
  advanceSweepItem,
  DEFAULT_SCAN_SEGMENTS,
  planSweep,
  recordSweep,
  recordSweepFailure,
  type StoreSweepSummary,
  type SweepInput,
  type SweepItem,
  type SweepPlan,
  type SweepSummary,
  startSweep,
} from './sweep';
export {
  DEFAULT_PAGE_BUDGET_MS,
  type SweepPageInput,
  type SweepPageResult,
  sweepStorePage,
} from './sweep-page';
