// flurm's commands, ESM side: argv → command. `run`, `notify` and `watch` take a fast path
// (node:util parseArgs, nothing else loaded); every other command loads commander lazily.
// The executable is flurm.cts, which sends the fast commands to a CommonJS bundle of the fast path
// without starting Node's ESM loader, and everything else here.
import { start } from './start.js';

export const FAST_COMMANDS = new Set(['run', 'notify', 'watch', '__detached']);

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0];
  if (cmd && FAST_COMMANDS.has(cmd)) {
    const { runFastCommand } = await import('./fast-commands.js');
    return runFastCommand(cmd, argv.slice(1));
  }
  const { runCommander } = await import('./commander-commands.js');
  return runCommander(argv);
}

start(() => main(process.argv.slice(2)));
