import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListMapRunsCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { executionArnFor } from '../../rights/sfn-starter';
import { failureMessage } from './backend';

/** How an index build on AWS ended; RUNNING when the wait ran out first (it goes on in Step Functions). */
export interface IndexBuildOutcome {
  storeId: string;
  executionArn: string;
  status: 'SUCCEEDED' | 'FAILED' | 'RUNNING';
  /** Objects the build's map runs listed (folder markers and keys outside the prefixes included). */
  objectsListed: number;
  /** Objects of those whose batch succeeded. */
  objectsDone: number;
  /** The watermark the build recorded; null unless it succeeded. */
  watermark: string | null;
  error: { code: string; message: string } | null;
}

/** Progress of an index build on AWS, after each poll. */
export interface AwsIndexProgress {
  storeId: string;
  objectsListed: number;
  objectsDone: number;
  done: boolean;
}

/** An execution name of an index build: the store's id and the time, in the characters Step Functions allows. */
export function indexBuildExecutionName(storeId: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 17);
  return `${storeId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 60)}-${stamp}`;
}

/** The objects the map runs of an execution listed and finished, summed over its prefixes. */
async function mapRunCounts(sfn: SFNClient, executionArn: string) {
  const counts = { objectsListed: 0, objectsDone: 0 };
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListMapRunsCommand({ executionArn, nextToken }));
    for (const run of page.mapRuns ?? []) {
      if (!run.mapRunArn) continue;
      const described = await sfn.send(new DescribeMapRunCommand({ mapRunArn: run.mapRunArn }));
      counts.objectsListed += described.itemCounts?.total ?? 0;
      counts.objectsDone += described.itemCounts?.succeeded ?? 0;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return counts;
}

/**
 * Starts the IndexBuild state machine for one store (input {storeId}) and polls it, with its map
 * runs' counts as progress, until it ends or `waitSeconds` run out.
 */
export async function runIndexBuildOnAws(
  sfn: SFNClient,
  stateMachineArn: string,
  storeId: string,
  options: {
    waitSeconds: number;
    pollIntervalMs: number;
    onProgress?: (progress: AwsIndexProgress) => void;
    clock?: () => Date;
  },
): Promise<IndexBuildOutcome> {
  const clock = options.clock ?? (() => new Date());
  const name = indexBuildExecutionName(storeId, clock());
  const started = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify({ storeId }) }),
  );
  const executionArn = started.executionArn ?? executionArnFor(stateMachineArn, name);
  const deadline = Date.now() + options.waitSeconds * 1000;
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const counts = await mapRunCounts(sfn, executionArn);
    const running = execution.status === 'RUNNING';
    options.onProgress?.({ storeId, ...counts, done: !running });
    if (!running || Date.now() > deadline) {
      if (running)
        return { storeId, executionArn, status: 'RUNNING', ...counts, watermark: null, error: null };
      if (execution.status === 'SUCCEEDED') {
        const output = JSON.parse(execution.output ?? '{}') as { watermark?: unknown };
        const watermark = typeof output.watermark === 'string' ? output.watermark : null;
        return { storeId, executionArn, status: 'SUCCEEDED', ...counts, watermark, error: null };
      }
      return {
        storeId,
        executionArn,
        status: 'FAILED',
        ...counts,
        watermark: null,
        error: {
          code: execution.error ?? execution.status ?? 'Unknown',
          message: failureMessage(execution.cause),
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs));
  }
}
