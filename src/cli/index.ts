// flurm's commands, ESM side: argv → command. `run`, `notify` and `watch` take a fast path
// (node:util parseArgs, nothing else loaded); every other command loads commander lazily.
// The executable is flurm.cts, which sends the fast commands to a CommonJS bundle of the fast path
// without starting Node's ESM loader, and everything else here.
import { exitWith } from './exit.js';

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

// `flurm status | head -3`: a reader that stops reading is not an error. Stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const outcome = main(process.argv.slice(2));
exitWith(outcome);
// Once a command is done and its output flushed, leave: the idle keep-alive socket that fetch()
// keeps to the hub would otherwise hold the process open for ~75 ms more.
outcome.then(
  (code) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code))),
  () => undefined,
);
