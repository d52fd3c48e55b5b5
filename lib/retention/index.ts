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
  DEFAULT_PAGE_BUDGET_MS,
  DEFAULT_SCAN_SEGMENTS,
  planSweep,
  recordSweep,
  recordSweepFailure,
  type StoreSweepSummary,
  type SweepInput,
  type SweepItem,
  type SweepPageInput,
  type SweepPageResult,
  type SweepPlan,
  type SweepSummary,
  sweepStorePage,
} from './sweep';
