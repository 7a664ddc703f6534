// execCommand against real processes: no shell, stdin, exit status, timeout kills the group, output cap.
import { describe, expect, it } from 'vitest';
import { ExecError } from './errors.js';
import { execCommand } from './exec.js';

const base = { timeoutMs: 5000, maxOutputBytes: 1 << 20 };

async function execError(p: Promise<unknown>): Promise<ExecError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExecError);
  return err as ExecError;
}

describe('execCommand', () => {
  it('runs without a shell and returns stdout, stderr and the exit code', async () => {
    const r = await execCommand('sh', ['-c', 'printf "%s" "$1"; printf warn >&2', 'sh', '$HOME; rm -rf /'], base);
    // The argument arrives verbatim: no shell expansion of what we pass.
    expect(r.stdout).toBe('$HOME; rm -rf /');
    expect(r.stderr).toBe('warn');
    expect(r.exitCode).toBe(0);
  });

  it('feeds input on stdin', async () => {
    const r = await execCommand('cat', [], { ...base, input: 'line 1\nline 2\n' });
    expect(r.stdout).toBe('line 1\nline 2\n');
  });

  it('throws with the exit status and stderr on a non-zero exit', async () => {
    const err = await execError(execCommand('sh', ['-c', 'echo "no such job" >&2; exit 3'], base));
    expect(err.details.exitCode).toBe(3);
    expect(err.details.stderr).toContain('no such job');
    expect(err.message).toMatch(/exited with status 3: no such job/);
  });

  it('accepts exit codes listed as ok', async () => {
    const r = await execCommand('sh', ['-c', 'exit 1'], { ...base, okExitCodes: [0, 1] });
    expect(r.exitCode).toBe(1);
  });

  it('kills the whole process group on timeout, promptly', async () => {
    const started = Date.now();
    // The shell starts a grandchild that would hold the pipes open for 30 s.
    const err = await execError(execCommand('sh', ['-c', 'sleep 30; echo done'], { ...base, timeoutMs: 300 }));
    expect(err.details.timedOut).toBe(true);
    expect(err.message).toMatch(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('kills a command that prints too much', async () => {
    const err = await execError(execCommand('sh', ['-c', 'yes flurm'], { ...base, maxOutputBytes: 10_000 }));
    expect(err.message).toMatch(/more than 10000 bytes on stdout/);
  });

  it('names a missing command', async () => {
    const err = await execError(execCommand('/nonexistent/notify-send', [], base));
    expect(err.message).toMatch(/command not found/);
  });

  it('reports a command killed by a signal', async () => {
    const err = await execError(execCommand('sh', ['-c', 'kill -TERM $$'], base));
    expect(err.details.signal).toBe('SIGTERM');
  });

  it('uses the given environment only', async () => {
    const r = await execCommand('/usr/bin/env', [], { ...base, env: { ONLY: 'this' } });
    expect(r.stdout.trim()).toBe('ONLY=this');
  });
});
