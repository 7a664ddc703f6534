// The only way flurm runs external commands (DESIGN style 5): no shell, a hard timeout that kills
// the whole process group, a cap on captured output, and a checked exit status. Failures throw
// ExecError with the command, exit code or signal, and the (bounded) stderr.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ExecError } from './errors.js';

export interface ExecOptions {
  /** Kill the command (and everything it started) after this many milliseconds. */
  timeoutMs: number;
  /** Kill the command when stdout or stderr grows beyond this many bytes. */
  maxOutputBytes: number;
  /** Written to the command's stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string | Buffer;
  /** The command's whole environment (not merged). Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Exit codes that count as success. Default [0]. */
  okExitCodes?: readonly number[];
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** How much of stderr an ExecError keeps. */
const STDERR_IN_ERROR_CHARS = 2000;

function describe(file: string, args: readonly string[]): string {
  const shown = [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  return shown.length > 300 ? shown.slice(0, 299) + '…' : shown;
}

/**
 * Run `file` with `args` (never through a shell). Resolves when it exits with an allowed code;
 * throws ExecError when it cannot start, exits otherwise, is killed by a signal, times out, or
 * prints more than `maxOutputBytes` on either stream.
 */
export function execCommand(file: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  const command = describe(file, args);
  const okExitCodes = opts.okExitCodes ?? [0];
  return new Promise<ExecResult>((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, [...args], {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        // Its own process group, so a timeout kills grandchildren too (a script's `sleep`
        // would otherwise keep the pipes open long after the script is gone).
        detached: true,
        windowsHide: true,
      });
    } catch (err) {
      reject(new ExecError(`cannot run ${command}: ${(err as Error).message}`, { command }, { cause: err }));
      return;
    }

    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let settled = false;

    const stderrText = () => Buffer.concat(errOut).toString('utf8').slice(-STDERR_IN_ERROR_CHARS);

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        try {
          child.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }
    };

    const fail = (err: ExecError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup();
      child.stdout?.destroy();
      child.stderr?.destroy();
      reject(err);
    };

    const timer = setTimeout(() => {
      fail(
        new ExecError(`${command} timed out after ${opts.timeoutMs} ms`, {
          command,
          timedOut: true,
          stderr: stderrText(),
        }),
      );
    }, opts.timeoutMs);

    const collect = (which: 'stdout' | 'stderr') => (chunk: Buffer) => {
      if (settled) return;
      if (which === 'stdout') {
        outBytes += chunk.length;
        out.push(chunk);
      } else {
        errBytes += chunk.length;
        errOut.push(chunk);
      }
      if (outBytes > opts.maxOutputBytes || errBytes > opts.maxOutputBytes) {
        fail(
          new ExecError(`${command} printed more than ${opts.maxOutputBytes} bytes on ${which}; killed`, {
            command,
            stderr: stderrText(),
          }),
        );
      }
    };
    child.stdout?.on('data', collect('stdout'));
    child.stderr?.on('data', collect('stderr'));

    child.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'command not found' : err.code === 'EACCES' ? 'permission denied' : err.message;
      fail(new ExecError(`cannot run ${command}: ${why}`, { command }, { cause: err }));
    });

    // 'close' fires after the process exited AND its stdio streams ended, so output is complete.
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(errOut).toString('utf8');
      if (code === null) {
        reject(
          new ExecError(`${command} was killed by ${signal ?? 'a signal'}`, {
            command,
            exitCode: null,
            signal,
            stderr: stderr.slice(-STDERR_IN_ERROR_CHARS),
          }),
        );
        return;
      }
      if (!okExitCodes.includes(code)) {
        const lastLine = stderr.trim().split('\n').slice(-1)[0] ?? '';
        reject(
          new ExecError(`${command} exited with status ${code}${lastLine ? `: ${lastLine.slice(0, 300)}` : ''}`, {
            command,
            exitCode: code,
            signal: null,
            stderr: stderr.slice(-STDERR_IN_ERROR_CHARS),
          }),
        );
        return;
      }
      resolve({ stdout, stderr, exitCode: code });
    });

    if (opts.input !== undefined && child.stdin) {
      // A command that exits without reading its input makes the write fail with EPIPE: not an
      // error of ours; the exit status tells what happened.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
  });
}

/** The executable `cmd` resolves to (as execvp would), or null when there is none. */
export function findExecutable(cmd: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = cmd.includes('/') ? [cmd] : (env.PATH ?? '/usr/bin:/bin').split(':').map((d) => path.join(d || '.', cmd));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return c;
    } catch {
      /* not here */
    }
  }
  return null;
}
