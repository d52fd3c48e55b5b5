export { type CheckOptions, type CheckProgress, checkStores } from './check';
export {
  buildCheckReport,
  type CheckReport,
  type SourceReport,
  type StoreCounts,
  type StoreReport,
} from './report';
export { createClassifier, type SourceCounts, type SourceTally, type ValueClass } from './tally';
