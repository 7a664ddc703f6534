// Whether `flurm`, typed in another terminal, runs this flurm — and if not, the one line that puts
// it on the PATH, so `flurm up` (`npm start`) can print it where the quick start needs it. Without
// root or npm's global prefix: a symlink in ~/bin, and ~/bin put first on the PATH.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from '../lib/exec.js';
import { shellQuote } from '../schedulers/local/command-line.js';

/** This flurm's executable (dist/cli/flurm.cjs beside this module once built). */
export function selfExecutable(): string {
  return fileURLToPath(new URL('./flurm.cjs', import.meta.url));
}

/** The checkout (or package) this executable belongs to, where `npx flurm` runs it; null if unknown. */
export function packageRoot(self: string): string | null {
  const root = path.resolve(path.dirname(real(self)), '..', '..');
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name?: string };
    return pkg.name === 'flurm' ? root : null;
  } catch {
    return null;
  }
}

function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

export interface PathHint {
  /** The `flurm` another terminal would run, when it is not this one (another install); null when none. */
  other: string | null;
  /** One shell line that makes `flurm` run this one. */
  line: string;
}

/**
 * Null when `flurm` on the user's PATH is this executable; else what is there instead and the one
 * line that fixes it. npm's own node_modules/.bin entries (present under `npm start`, not in the
 * user's other terminals) are not counted.
 */
export function pathHint(self: string, env: NodeJS.ProcessEnv = process.env): PathHint | null {
  const dirs = (env.PATH ?? '').split(':').filter((d) => d && !/(^|\/)node_modules\/\.bin\/?$/.test(d));
  const found = findExecutable('flurm', { ...env, PATH: dirs.join(':') });
  if (found && real(found) === real(self)) return null;
  const home = env.HOME || os.homedir();
  const bin = path.join(home, 'bin');
  const binFirst = dirs.length > 0 && path.resolve(dirs[0]!) === bin;
  const binOnPath = dirs.some((d) => path.resolve(d) === bin);
  // ~/bin must come before a `flurm` found elsewhere; prepending it is harmless when it is there already.
  const needExport = !binOnPath || (found !== null && !binFirst);
  const line = `mkdir -p ~/bin && ln -sf ${shellQuote(real(self))} ~/bin/flurm${needExport ? ' && export PATH="$HOME/bin:$PATH"' : ''}`;
  return { other: found, line };
}
