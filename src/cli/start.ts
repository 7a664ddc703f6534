// Starting a CLI run, shared by the ESM entry (index.ts) and the commander bundle
// (commander-bundle.ts): a reader that stops reading (`flurm status | head -3`) is not an error;
// once the command is done and its output flushed, leave (an idle keep-alive socket to the hub
// would otherwise hold the process open ~75 ms more). Exit codes are mapped by exit.ts.
import { exitWith } from './exit.js';

export function start(outcome: () => Promise<number>): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const p = outcome();
  exitWith(p);
  p.then(
    (code) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code))),
    () => undefined,
  );
}
