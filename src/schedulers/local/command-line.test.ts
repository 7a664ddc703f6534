import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../lib/errors.js';
import { displayCommand, isShellString, resolveCommand, resolveExecutable, shellFor, shellQuote } from './command-line.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-cmd-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err.exitCode;
    throw err;
  }
  return undefined;
}

describe('shell strings', () => {
  it('one argument with shell syntax is a shell command line; anything else is a program', () => {
    expect(isShellString(['make && ./train'])).toBe(true);
    expect(isShellString(['python train.py'])).toBe(true);
    expect(isShellString(['ls | wc -l'])).toBe(true);
    expect(isShellString(['./train.sh'])).toBe(false);
    expect(isShellString(['python', 'a b'])).toBe(false);
  });

  it('a path to a program with a space in it is still a program', () => {
    const prog = path.join(tmp, 'my tool');
    fs.writeFileSync(prog, '#!/bin/sh\n', { mode: 0o755 });
    expect(isShellString([prog])).toBe(false);
  });

  it('runs with $SHELL when it is a POSIX shell, else /bin/sh', () => {
    expect(shellFor({ SHELL: '/bin/bash' })).toBe('/bin/bash');
    expect(shellFor({ SHELL: '/usr/bin/zsh' })).toBe('/usr/bin/zsh');
    expect(shellFor({ SHELL: '/usr/bin/fish' })).toBe('/bin/sh');
    expect(shellFor({ SHELL: 'bash' })).toBe('/bin/sh');
    expect(shellFor({})).toBe('/bin/sh');
  });

  it('quotes a command line for display so a shell would read it back', () => {
    expect(shellQuote('plain-arg_1.txt')).toBe('plain-arg_1.txt');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(displayCommand(['python', 'train.py', '--note', 'two words'], false)).toBe("python train.py --note 'two words'");
  });
});

describe('resolving the program', () => {
  it('finds a program on PATH and gives its absolute path', () => {
    expect(resolveExecutable('sh', process.env)).toMatch(/^\/.*\/sh$/);
  });

  it('127 for a command that does not exist, 126 for one that is not executable', () => {
    expect(codeOf(() => resolveExecutable('no-such-command-flurm', process.env))).toBe(127);
    expect(codeOf(() => resolveExecutable('./no-such-file', process.env, tmp))).toBe(127);
    const plain = path.join(tmp, 'plain.sh');
    fs.writeFileSync(plain, 'echo hi\n', { mode: 0o644 });
    expect(codeOf(() => resolveExecutable(plain, process.env))).toBe(126);
    expect(codeOf(() => resolveExecutable(tmp, process.env))).toBe(126);
    expect(codeOf(() => resolveExecutable('plain.sh', { PATH: tmp }))).toBe(126);
    expect(() => resolveExecutable('no-such-command-flurm', process.env)).toThrow('command not found: no-such-command-flurm');
  });

  it('resolveCommand: argv as given, or the shell with -c', () => {
    const direct = resolveCommand(['sh', '-c', 'exit 3'], process.env);
    expect(direct.viaShell).toBe(false);
    expect(direct.args).toEqual(['-c', 'exit 3']);
    expect(direct.display).toBe("sh -c 'exit 3'");
    const viaShell = resolveCommand(['echo a && echo b'], { ...process.env, SHELL: '/bin/sh' });
    expect(viaShell.viaShell).toBe(true);
    expect(viaShell.file).toBe('/bin/sh');
    expect(viaShell.args).toEqual(['-c', 'echo a && echo b']);
    expect(viaShell.display).toBe('echo a && echo b');
    expect(codeOf(() => resolveCommand([], process.env))).toBe(2);
  });
});
