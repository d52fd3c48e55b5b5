import type { ScenarioResult } from '../support/report';

export interface BenchOptions {
  /** The short variant: smaller sizes, for a check that everything still runs (< 30 s). */
  quick: boolean;
  /** --subjects: overrides the scenario's main subject count (see bench/README.md). */
  subjects?: number;
  /** --records: overrides the scenario's records per subject. */
  records?: number;
  /** Progress for the person watching (stderr); tables go to stdout. */
  progress: (message: string) => void;
}

export interface Scenario {
  name: string;
  summary: string;
  run(options: BenchOptions): Promise<ScenarioResult>;
}
