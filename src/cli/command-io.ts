// What a CLI command runs in and writes to — environment, working directory, stdout, stderr —
// injectable for tests, the process's own by default. Output goes to fds 1 and 2 with writeFd:
// setting up process.stdout costs milliseconds on the `flurm run` fast path.
import { writeFd } from '../schedulers/local/wrap.js';

export interface CommandIO {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const toStdout = (text: string): void => writeFd(1, text);
export const toStderr = (text: string): void => writeFd(2, text);

/**
 * `deps` with the process's own for whatever is missing. `cwd` is read when used, so a command
 * that never needs it works from a directory that has been deleted.
 */
export function commandIO(deps: Partial<CommandIO> = {}): CommandIO {
  return {
    env: deps.env ?? process.env,
    get cwd() {
      return deps.cwd ?? process.cwd();
    },
    stdout: deps.stdout ?? toStdout,
    stderr: deps.stderr ?? toStderr,
  };
}
