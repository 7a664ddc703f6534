// From what the user typed after `flurm run` to what is executed: a single argument written in
// shell syntax runs through a shell, anything else is executed directly after a PATH lookup that
// gives the shell's answers (127 command not found, 126 not executable) before anything starts.
//
// Shell strings: `flurm run 'source venv/bin/activate && python train.py'` runs `$SHELL -c STR`
// when $SHELL is a POSIX-family shell (sh, bash, dash, zsh, ksh, mksh, ash, busybox) — the
// string then means what it means at the user's prompt (bash's `source`, `[[ ]]`; Debian's
// /bin/sh is dash, which has neither) — and `/bin/sh -c STR` otherwise (fish, tcsh, csh, unset).
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../lib/errors.js';

/** Characters that make a lone argument a shell command line rather than a program name. */
const SHELL_SYNTAX = /[\s;&|<>()$`\\"'*?[\]#~{}!=]/;

/** True when `args` is one argument written in shell syntax (and not the path of a program). */
export function isShellString(args: readonly string[], cwd: string = process.cwd()): boolean {
  if (args.length !== 1) return false;
  const a = args[0]!;
  if (!SHELL_SYNTAX.test(a)) return false;
  // '/opt/my tools/run' names a program, even with a space in it.
  if (a.includes('/')) {
    try {
      if (fs.statSync(path.resolve(cwd, a)).isFile()) return false;
    } catch {
      /* not a file: shell syntax */
    }
  }
  return true;
}

const POSIX_SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ksh93', 'ash', 'busybox', 'yash']);

/** The shell that runs shell strings: $SHELL if it is POSIX-family, else /bin/sh. */
export function shellFor(env: NodeJS.ProcessEnv): string {
  const sh = env.SHELL?.trim();
  if (sh && path.isAbsolute(sh) && POSIX_SHELLS.has(path.basename(sh))) return sh;
  return '/bin/sh';
}

/** Quote one argument for display the way a POSIX shell would read it back. */
export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line as the user would type it (for `cmd` in the events). */
export function displayCommand(args: readonly string[], shell: boolean): string {
  return shell ? args[0]! : args.map(shellQuote).join(' ');
}

function executableFile(p: string): 'ok' | 'not-executable' | 'missing' {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return 'missing';
  }
  if (!st.isFile()) return st.isDirectory() ? 'not-executable' : 'missing';
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return 'ok';
  } catch {
    return 'not-executable';
  }
}

/**
 * Find `name` the way execvp would (PATH entries in order; an empty entry is the current
 * directory; a name with a '/' is a path). Returns the absolute path of the program. Throws
 * UserError exit 127 "command not found: NAME" or 126 "permission denied: NAME" (a directory, or
 * a file without execute permission), like the shell.
 */
export function resolveExecutable(name: string, env: NodeJS.ProcessEnv, cwd: string = process.cwd()): string {
  if (name === '') throw new UserError('command not found: (empty command)', { exitCode: 127 });
  if (name.includes('/')) {
    const p = path.resolve(cwd, name);
    const r = executableFile(p);
    if (r === 'ok') return p;
    if (r === 'missing') throw new UserError(`command not found: ${name} (no such file)`, { exitCode: 127 });
    throw new UserError(`permission denied: ${name} (not an executable file)`, { exitCode: 126 });
  }
  let denied = false;
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.resolve(cwd, dir || '.', name);
    const r = executableFile(p);
    if (r === 'ok') return p;
    if (r === 'not-executable') denied = true;
  }
  if (denied) throw new UserError(`permission denied: ${name} (found in PATH but not executable)`, { exitCode: 126 });
  throw new UserError(`command not found: ${name}`, { exitCode: 127 });
}

export interface ResolvedCommand {
  /** Program to execute (absolute path). */
  file: string;
  /** Its arguments, without argv[0]. */
  args: string[];
  /** argv[0] as the user wrote it. */
  argv0: string;
  /** What the user typed, for the events. */
  display: string;
  viaShell: boolean;
}

/** What to execute for `args` (the words after `flurm run [options]`). Throws like resolveExecutable. */
export function resolveCommand(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string = process.cwd()): ResolvedCommand {
  if (args.length === 0) throw new UserError('no command given: flurm run [options] -- CMD [ARGS...] (see flurm run --help)');
  if (isShellString(args, cwd)) {
    const sh = shellFor(env);
    return { file: resolveExecutable(sh, env, cwd), args: ['-c', args[0]!], argv0: sh, display: args[0]!, viaShell: true };
  }
  return { file: resolveExecutable(args[0]!, env, cwd), args: args.slice(1), argv0: args[0]!, display: displayCommand(args, false), viaShell: false };
}
