import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../lib/errors.js';
import { runFastCommand, splitRunArgv, validateDestinations } from './fast-commands.js';

async function userError(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a UserError');
}

describe('splitRunArgv', () => {
  it('the command starts at "--" or at the first word that is not an option', () => {
    expect(splitRunArgv(['-t', 'x', '--', 'ls', '-l'])).toEqual({ flags: ['-t', 'x'], command: ['ls', '-l'] });
    expect(splitRunArgv(['-t', 'x', 'python', 'train.py', '--lr', '3'])).toEqual({ flags: ['-t', 'x'], command: ['python', 'train.py', '--lr', '3'] });
    expect(splitRunArgv(['--to', 'a', '--to=b', '-dq', 'make'])).toEqual({ flags: ['--to', 'a', '--to=b', '-dq'], command: ['make'] });
    expect(splitRunArgv(['-dt', 'title', 'cmd'])).toEqual({ flags: ['-dt', 'title'], command: ['cmd'] });
    expect(splitRunArgv(['-ttitle', 'cmd'])).toEqual({ flags: ['-ttitle'], command: ['cmd'] });
    expect(splitRunArgv(['--log', 'f.log', 'sh', '-c', 'x'])).toEqual({ flags: ['--log', 'f.log'], command: ['sh', '-c', 'x'] });
    expect(splitRunArgv(['echo a && echo b'])).toEqual({ flags: [], command: ['echo a && echo b'] });
  });
});

describe('argument errors (before anything runs)', () => {
  it('an unknown option names it, exit 2', async () => {
    const err = await userError(runFastCommand('run', ['--bogus', '--', 'true']));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain("'--bogus'");
    expect((await userError(runFastCommand('notify', ['-x', 'hello']))).message).toContain("'-x'");
    expect((await userError(runFastCommand('watch', ['--nope', '1']))).message).toContain("'--nope'");
  });

  it('a missing value, a missing command, a bad pid', async () => {
    expect((await userError(runFastCommand('run', ['--log']))).message).toMatch(/--log/);
    expect((await userError(runFastCommand('run', ['-t', 'x']))).message).toMatch(/no command/);
    expect((await userError(runFastCommand('notify', []))).message).toMatch(/no message/);
    expect((await userError(runFastCommand('watch', ['12ab']))).message).toMatch(/not a process id/);
    expect((await userError(runFastCommand('watch', []))).exitCode).toBe(2);
  });

  it('__detached refuses to run by hand', async () => {
    expect((await userError(runFastCommand('__detached', ['run']))).message).toMatch(/internal/);
  });
});

const hasRegistry = fs.existsSync(path.resolve(import.meta.dirname, '../notifiers/registry.ts'));

describe.skipIf(!hasRegistry)('--to validation (notifier registry)', () => {
  it('a bad destination is an error naming it, before the job starts', async () => {
    const err = await userError(validateDestinations(['nosuchscheme://x']));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('--to nosuchscheme://x');
  });
  it('more destinations than an event may carry is refused before the job starts, not by the hub later', async () => {
    const ok = Array.from({ length: 16 }, (_, i) => `https://ntfy.sh/flurm-${i}`);
    await expect(validateDestinations(ok)).resolves.toBeUndefined();
    const err = await userError(validateDestinations([...ok, 'https://ntfy.sh/flurm-16']));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('--to: at most 16 destinations per job (got 17)');
    expect((await userError(validateDestinations([`https://ntfy.sh/${'x'.repeat(2100)}`]))).message).toMatch(/longer than 2048 characters/);
  });
  it('no --to: nothing is loaded, nothing fails', async () => {
    await expect(validateDestinations([])).resolves.toBeUndefined();
  });
});
