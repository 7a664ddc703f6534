// Mapping a command's outcome to the process's exit: the one place (with the two entry points
// that call it, flurm.cts and index.ts) that decides exit codes and calls process.exit.
// Errors are recognised by name and exitCode, not by class identity: the fast path runs from a
// bundle with its own copy of lib/errors.ts.

interface ExitCoded {
  name: string;
  message: string;
  exitCode: number;
}

const USER_ERRORS = new Set(['UserError', 'ConfigError']);

function isUserError(err: unknown): err is ExitCoded {
  return err instanceof Error && USER_ERRORS.has(err.name) && typeof (err as Partial<ExitCoded>).exitCode === 'number';
}

/** Wait for a command and leave with its exit code; a UserError prints one line, anything else a stack. */
export function exitWith(outcome: Promise<number>): void {
  outcome.then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (isUserError(err)) {
        process.stderr.write(`flurm: ${err.message}\n`);
        process.exit(err.exitCode);
      }
      process.stderr.write(`flurm: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(70);
    },
  );
}
