#!/usr/bin/env node
// flurm's entry point: argv → command. The only place that maps errors to exit codes and calls
// process.exit. `run`, `notify` and `watch` take a fast path (node:util parseArgs, nothing else
// loaded) so wrapping a job costs almost nothing; every other command loads commander lazily.
import { UserError, errorMessage } from '../lib/errors.js';

const FAST = new Set(['run', 'notify', 'watch', '__detached']);

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0];
  if (cmd && FAST.has(cmd)) {
    const { runFastCommand } = await import('./fast-commands.js');
    return runFastCommand(cmd, argv.slice(1));
  }
  const { runCommander } = await import('./commander-commands.js');
  return runCommander(argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UserError) {
      process.stderr.write(`flurm: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`flurm: internal error: ${err instanceof Error ? (err.stack ?? err.message) : errorMessage(err)}\n`);
    process.exit(70);
  },
);
