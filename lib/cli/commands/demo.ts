import type { Command } from 'commander';
import { runDemo } from '../demo';
import { EXIT, UsageError } from '../errors';
import { type CommandContext, type CommonOptions, common } from './shared';

/** Adds `lethe demo`: the ad-tech example seeded and run end to end. */
export function addDemoCommand(program: Command, context: CommandContext): void {
  common(
    program
      .command('demo')
      .description(
        'Seed the ad-tech example into a fresh state directory and run an access and an erasure request.',
      )
      .option('--subjects <n>', 'subjects to seed', '60')
      .addHelpText('after', '\nExample:\n  lethe demo --state-dir .lethe/demo'),
  ).action(async (opts: CommonOptions & { subjects: string }) => {
    const subjects = Number.parseInt(opts.subjects, 10);
    if (!Number.isInteger(subjects) || subjects < 2 || subjects > 100_000) {
      throw new UsageError('--subjects must be a whole number from 2 to 100000');
    }
    const stateDir = opts.stateDir === '.lethe' ? '.lethe/demo' : (opts.stateDir ?? '.lethe/demo');
    const result = await runDemo({ stateDir, subjects, io: context.io, json: opts.json ?? false });
    if (result.failed) context.exitCode = EXIT.requestFailed;
  });
}
