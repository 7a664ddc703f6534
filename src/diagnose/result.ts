// A job's result in words: turns (state, exit status, signal) into the one line every notification
// leads with, e.g. "exit 3", "killed by SIGKILL — likely out of memory (…)" or
// "exit 137 (128+9: SIGKILL) — likely out of memory", plus a severity and the verb for the title
// ("finished", "failed", …). Signal numbers come from os.constants.signals (the hub and the nodes
// are Linux; an exit status above 128 is how a shell reports a child killed by signal N-128).
import os from 'node:os';
import type { JobView } from '../model/job-view.js';
import type { Severity } from '../model/message.js';

export interface JobResult {
  /** The result in words, for the message summary and the Result field. */
  words: string;
  severity: Severity;
  /** For titles: "<name> <verb> on <host>". */
  verb: 'finished' | 'failed' | 'was interrupted' | 'ended' | 'vanished' | 'is running';
}

export type ResultInput = Pick<JobView, 'state' | 'exit' | 'signal' | 'exitUnknown'>;

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = os.constants.signals;
const SIGNAL_NAMES: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  // First name wins, so 6 is SIGABRT (not SIGIOT) and 29 is SIGIO.
  for (const [name, n] of Object.entries(SIGNAL_NUMBERS)) if (!m.has(n)) m.set(n, name);
  return m;
})();

/** What a signal means to the person who ran the job, when it killed the job directly. */
const SIGNAL_WORDS: Readonly<Record<string, string>> = {
  SIGKILL: 'killed by SIGKILL — likely out of memory (or killed by an admin or a time limit)',
  SIGTERM: 'killed by SIGTERM',
  SIGSEGV: 'crashed: segmentation fault (SIGSEGV)',
  SIGBUS: 'crashed: bus error (SIGBUS)',
  SIGABRT: 'crashed: aborted (SIGABRT)',
  SIGFPE: 'crashed: arithmetic error (SIGFPE)',
  SIGILL: 'crashed: illegal instruction (SIGILL)',
  SIGINT: 'interrupted (SIGINT)',
  SIGHUP: 'killed by SIGHUP (its terminal closed)',
  SIGPIPE: 'killed by SIGPIPE (the reader of its output went away)',
  SIGXCPU: 'killed by SIGXCPU (CPU time limit reached)',
  SIGXFSZ: 'killed by SIGXFSZ (file size limit reached)',
};

/** The short gloss after "exit 128+N (128+N: SIG…)". */
const SIGNAL_GLOSS: Readonly<Record<string, string>> = {
  SIGKILL: 'likely out of memory',
  SIGTERM: 'terminated',
  SIGSEGV: 'segmentation fault',
  SIGBUS: 'bus error',
  SIGABRT: 'aborted',
  SIGFPE: 'arithmetic error',
  SIGILL: 'illegal instruction',
  SIGINT: 'interrupted',
  SIGHUP: 'its terminal closed',
  SIGPIPE: 'broken pipe',
};

/** Shell conventions for a command that never ran. */
const EXIT_WORDS: Readonly<Record<number, string>> = {
  126: 'exit 126 — the command could not be run (not executable?)',
  127: 'exit 127 — command not found',
};

/**
 * A signal as a canonical name ("SIGKILL") and number (9). Accepts "SIGKILL", "KILL", "sigkill"
 * or "9"; a name Node does not know comes back as "SIG" + its upper-cased form, with no number.
 */
export function normalizeSignal(signal: string | number): { name: string; number?: number } {
  if (typeof signal === 'number' || /^\d+$/.test(signal.trim())) {
    const n = Number(signal);
    const name = SIGNAL_NAMES.get(n);
    return name ? { name, number: n } : { name: `signal ${n}`, number: n };
  }
  const upper = signal.trim().toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const number = SIGNAL_NUMBERS[name];
  if (number === undefined) return { name };
  return { name: SIGNAL_NAMES.get(number) ?? name, number };
}

export function describeResult(job: ResultInput): JobResult {
  if (job.state === 'vanished') {
    return {
      words: 'vanished: no end was recorded (the machine may have rebooted, or the process was killed with its wrapper)',
      severity: 'warning',
      verb: 'vanished',
    };
  }
  if (job.state === 'running') return { words: 'running', severity: 'info', verb: 'is running' };

  if (job.signal) return describeSignal(job.signal);
  if (typeof job.exit === 'number' && Number.isFinite(job.exit)) return describeExit(job.exit);
  if (job.exitUnknown) {
    return {
      words: 'ended; exit status unknown (flurm watch did not start this process)',
      severity: 'info',
      verb: 'ended',
    };
  }
  if (job.state === 'succeeded') return { words: 'finished', severity: 'success', verb: 'finished' };
  if (job.state === 'failed') return { words: 'failed; exit status unknown', severity: 'failure', verb: 'failed' };
  return { words: 'ended; exit status unknown', severity: 'info', verb: 'ended' };
}

function describeSignal(signal: string): JobResult {
  const { name } = normalizeSignal(signal);
  if (name === 'SIGINT') return { words: SIGNAL_WORDS.SIGINT!, severity: 'warning', verb: 'was interrupted' };
  const words = SIGNAL_WORDS[name] ?? `killed by ${name}`;
  return { words, severity: 'failure', verb: 'failed' };
}

function describeExit(exit: number): JobResult {
  if (exit === 0) return { words: 'exit 0', severity: 'success', verb: 'finished' };
  const known = EXIT_WORDS[exit];
  if (known) return { words: known, severity: 'failure', verb: 'failed' };
  if (exit > 128 && exit < 256) {
    const signalNumber = exit - 128;
    const name = SIGNAL_NAMES.get(signalNumber);
    if (name) {
      const gloss = SIGNAL_GLOSS[name];
      const words = `exit ${exit} (128+${signalNumber}: ${name})${gloss ? ` — ${gloss}` : ''}`;
      if (name === 'SIGINT') return { words, severity: 'warning', verb: 'was interrupted' };
      return { words, severity: 'failure', verb: 'failed' };
    }
  }
  return { words: `exit ${exit}`, severity: 'failure', verb: 'failed' };
}
