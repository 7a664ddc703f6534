import { describe, expect, it } from 'vitest';
import { describeResult, normalizeSignal, type ResultInput } from './result.js';

const ended = (over: Partial<ResultInput>): ResultInput => ({ state: 'failed', exit: null, signal: null, ...over });

describe('describeResult', () => {
  it.each<[string, Partial<ResultInput>, string, string, string]>([
    ['exit 0', { state: 'succeeded', exit: 0 }, 'exit 0', 'success', 'finished'],
    ['exit 3', { exit: 3 }, 'exit 3', 'failure', 'failed'],
    ['exit 255 (not 128+signal)', { exit: 255 }, 'exit 255', 'failure', 'failed'],
    ['exit 127', { exit: 127 }, 'exit 127 — command not found', 'failure', 'failed'],
    ['exit 137', { exit: 137 }, 'exit 137 (128+9: SIGKILL) — likely out of memory', 'failure', 'failed'],
    ['exit 139', { exit: 139 }, 'exit 139 (128+11: SIGSEGV) — segmentation fault', 'failure', 'failed'],
    ['exit 143', { exit: 143 }, 'exit 143 (128+15: SIGTERM) — terminated', 'failure', 'failed'],
    ['exit 130 (Ctrl-C in a script)', { exit: 130 }, 'exit 130 (128+2: SIGINT) — interrupted', 'warning', 'was interrupted'],
    [
      'SIGKILL',
      { signal: 'SIGKILL' },
      'killed by SIGKILL — likely out of memory (or killed by an admin or a time limit)',
      'failure',
      'failed',
    ],
    ['SIGTERM', { signal: 'SIGTERM' }, 'killed by SIGTERM', 'failure', 'failed'],
    ['SIGSEGV', { signal: 'SIGSEGV' }, 'crashed: segmentation fault (SIGSEGV)', 'failure', 'failed'],
    ['SIGBUS', { signal: 'SIGBUS' }, 'crashed: bus error (SIGBUS)', 'failure', 'failed'],
    ['SIGABRT written as SIGIOT', { signal: 'SIGIOT' }, 'crashed: aborted (SIGABRT)', 'failure', 'failed'],
    ['SIGINT', { signal: 'SIGINT' }, 'interrupted (SIGINT)', 'warning', 'was interrupted'],
    ['a signal without a story', { signal: 'SIGUSR1' }, 'killed by SIGUSR1', 'failure', 'failed'],
    [
      'exit unknown (flurm watch)',
      { state: 'unknown', exitUnknown: true },
      'ended; exit status unknown (flurm watch did not start this process)',
      'info',
      'ended',
    ],
    ['failed, no status recorded', { state: 'failed' }, 'failed; exit status unknown', 'failure', 'failed'],
    ['running', { state: 'running' }, 'running', 'info', 'is running'],
  ])('%s', (_name, over, words, severity, verb) => {
    expect(describeResult(ended(over))).toEqual({ words, severity, verb });
  });

  it('a signal wins over the state, and the exit status over "unknown"', () => {
    expect(describeResult(ended({ state: 'succeeded', signal: 'SIGKILL' })).severity).toBe('failure');
    expect(describeResult(ended({ state: 'unknown', exit: 2, exitUnknown: true })).words).toBe('exit 2');
  });

  it('vanished says so, as a warning', () => {
    const r = describeResult(ended({ state: 'vanished', exit: null }));
    expect(r.words).toMatch(/^vanished: /);
    expect(r.severity).toBe('warning');
    expect(r.verb).toBe('vanished');
  });

  it('signals given as "KILL", "sigsegv" or "9" read the same as their SIG names', () => {
    expect(describeResult(ended({ signal: 'KILL' })).words).toBe(describeResult(ended({ signal: 'SIGKILL' })).words);
    expect(describeResult(ended({ signal: 'sigsegv' })).words).toBe('crashed: segmentation fault (SIGSEGV)');
    expect(describeResult(ended({ signal: '9' })).words).toMatch(/^killed by SIGKILL/);
  });
});

describe('normalizeSignal', () => {
  it('uses the numbers of this platform (os.constants.signals)', () => {
    expect(normalizeSignal('SIGKILL')).toEqual({ name: 'SIGKILL', number: 9 });
    expect(normalizeSignal(15)).toEqual({ name: 'SIGTERM', number: 15 });
    expect(normalizeSignal('6')).toEqual({ name: 'SIGABRT', number: 6 });
  });
  it('keeps an unknown name, upper-cased, without a number', () => {
    expect(normalizeSignal('sigfoo')).toEqual({ name: 'SIGFOO' });
    expect(normalizeSignal(99)).toEqual({ name: 'signal 99', number: 99 });
  });
});
