// The job-end notification as a neutral Message: "✗ train-resnet failed on gpu3", the result in
// words, the facts a user checks first (host, duration, peak memory, CPU time, command), the
// diagnosis of the log tail and the tail itself. Also the message for an ad-hoc note
// (`flurm notify`) and for a job that vanished without an end event. Every front end renders
// these; none of them builds its own. The job's name in the title is jobName's (job-name.ts).
import type { Diagnosis } from '../diagnose/diagnose.js';
import { describeResult, type JobResult } from '../diagnose/result.js';
import { formatBytes, formatDuration } from '../lib/format.js';
import type { Message, MessageField, Severity } from '../model/message.js';
import { clip, MESSAGE_MAX_CHARS, TITLE_MAX_CHARS } from '../spool/events.js';
import { formatCpuTime } from '../model/format-job.js';
import { jobName } from '../model/job-name.js';
import type { JobView } from '../model/job-view.js';

export interface JobMessageOptions {
  /** Leave the command line out of the title, fields and data (`flurm run --hide-command`). */
  hideCommand?: boolean;
  /** The scheduler's own name for the job (SLURM JobName), for its title: see jobName. */
  schedulerName?: string | null;
}

export interface NoteInput {
  user: string;
  host: string;
  title?: string | null;
  message: string;
  /** ISO time of the note. */
  ts: string;
  id: string;
}

/** Field values are cut to this (Discord's field limit is 1024). */
export const FIELD_MAX_CHARS = 1000;

const ICONS: Readonly<Record<Severity, string>> = { success: '✓', failure: '✗', warning: '⚠', info: '•' };

/** The job-end message. `diagnoses` come from diagnose() on the job's tail. */
export function buildJobMessage(job: JobView, diagnoses: readonly Diagnosis[], opts?: JobMessageOptions): Message {
  return build(job, describeResult(job), diagnoses, opts);
}

/** For a job whose process disappeared without an end event (reboot, wrapper killed). */
export function buildVanishedMessage(job: JobView, reason: string, opts?: JobMessageOptions): Message {
  const result: JobResult = { words: `vanished: ${reason}`, severity: 'warning', verb: 'vanished' };
  return build({ ...job, state: 'vanished' }, result, [], opts);
}

/** An ad-hoc message from `flurm notify`. */
export function buildNoteMessage(note: NoteInput): Message {
  const title = note.title?.trim() ? clip(note.title.trim(), TITLE_MAX_CHARS) : `Message from ${note.user}@${note.host}`;
  return {
    title,
    severity: 'info',
    summary: clip(note.message, MESSAGE_MAX_CHARS),
    fields: [
      { name: 'Host', value: note.host, inline: true },
      { name: 'User', value: note.user, inline: true },
    ],
    footer: `flurm · note ${note.id}`,
    timestamp: note.ts,
    data: {
      note: { id: note.id, user: note.user, host: note.host, title: note.title ?? null, message: note.message, ts: note.ts },
    },
  };
}

function build(job: JobView, result: JobResult, diagnoses: readonly Diagnosis[], opts?: JobMessageOptions): Message {
  return buildEndMessage(job, result, diagnoses, opts);
}

/** A job-end result as buildEndMessage takes it: JobResult, or a scheduler's own words and verb. */
export interface EndResult {
  words: string;
  severity: Severity;
  /** For the title: "<name> <verb> on <host>". */
  verb: string;
}

/** What a scheduler's job-end message (SLURM) adds to the local one; every part optional. */
export interface EndMessageExtras {
  /** The whole title after the icon (default "<name> <verb> on <host>"); clipped to TITLE_MAX_CHARS. */
  title?: string;
  /** Summary (default: the result's words). */
  summary?: string;
  /** Fields put after Duration / Peak memory / CPU time and before Command; values are clipped. */
  fields?: MessageField[];
  /** Merged into `data` beside `job` and `diagnoses`. */
  data?: Record<string, unknown>;
  /** The Duration to show, when the caller knows better than the job's record (null: no Duration). */
  wallSeconds?: number | null;
}

/**
 * The job-end message for any job: what buildJobMessage builds, with a result in words given by the
 * caller and the extras a scheduler adds (title, fields, data). buildJobMessage is this with
 * describeResult and no extras.
 */
export function buildEndMessage(
  job: JobView,
  result: EndResult,
  diagnoses: readonly Diagnosis[],
  opts?: JobMessageOptions,
  extras?: EndMessageExtras,
): Message {
  const name = jobName(job, opts);
  const title = clip(`${ICONS[result.severity]} ${extras?.title ?? `${name} ${result.verb} on ${job.host}`}`, TITLE_MAX_CHARS);
  const wallSeconds = extras && extras.wallSeconds !== undefined ? num(extras.wallSeconds) : wallSecondsOf(job);

  const fields: MessageField[] = [
    { name: 'Host', value: job.host, inline: true },
    { name: 'User', value: job.user, inline: true },
    { name: 'Result', value: result.words, inline: false },
  ];
  const add = (name: string, value: string | null | undefined, inline: boolean) => {
    if (value) fields.push({ name, value: clip(value, FIELD_MAX_CHARS), inline });
  };
  add('Duration', wallSeconds == null ? '' : formatDuration(wallSeconds), true);
  add('Peak memory', isNumber(job.peakRssBytes) && job.peakRssBytes >= 0 ? formatBytes(job.peakRssBytes) : '', true);
  add('CPU time', formatCpuTime(job.cpuSeconds, wallSeconds), true);
  for (const f of extras?.fields ?? []) add(f.name, f.value, f.inline ?? false);
  if (!opts?.hideCommand) add('Command', job.cmd, false);
  add('Directory', job.cwd, false);
  add('Log', job.log, false);

  const message: Message = {
    title,
    severity: result.severity,
    summary: extras?.summary ?? result.words,
    fields,
    footer: `flurm · job ${job.id}`,
    data: {
      job: jobRecord(job, result, wallSeconds, opts),
      diagnoses: diagnoses.map(diagnosisRecord),
      ...extras?.data,
    },
  };
  if (diagnoses.length > 0) message.diagnosis = diagnoses.map(diagnosisRecord);
  const tail = trimTrailingBlank(job.tail ?? []);
  if (tail.length > 0) message.logTail = tail;
  if (job.endTs) message.timestamp = job.endTs;
  return message;
}

/** Wall seconds as recorded, else from the start and end times (both on the same writer's clock). */
function wallSecondsOf(job: JobView): number | null {
  if (isNumber(job.wallSeconds) && job.wallSeconds >= 0) return job.wallSeconds;
  if (job.startTs && job.endTs) {
    const ms = Date.parse(job.endTs) - Date.parse(job.startTs);
    if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  }
  return null;
}

// Diagnosis entries carry `hint` too; Message.diagnosis does not declare it yet (see report).
function diagnosisRecord(d: Diagnosis): { pattern: string; description: string; line: string; hint?: string } {
  return {
    pattern: d.pattern,
    description: d.description,
    line: d.line,
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
  };
}

/** The job as plain JSON: every key present, null where unknown, no NaN or Infinity. */
function jobRecord(
  job: JobView,
  result: Pick<EndResult, 'words' | 'severity'>,
  wallSeconds: number | null,
  opts?: JobMessageOptions,
): Record<string, unknown> {
  return {
    id: job.id,
    user: job.user,
    host: job.host,
    state: job.state,
    title: job.title ?? null,
    name: jobName(job, opts),
    cmd: opts?.hideCommand ? null : (job.cmd ?? null),
    commandHidden: opts?.hideCommand === true,
    cwd: job.cwd ?? null,
    pid: num(job.pid),
    startTs: job.startTs ?? null,
    endTs: job.endTs ?? null,
    exit: num(job.exit),
    signal: job.signal ?? null,
    exitUnknown: job.exitUnknown === true,
    result: result.words,
    severity: result.severity,
    wallSeconds: num(wallSeconds),
    cpuSeconds: num(job.cpuSeconds),
    peakRssBytes: num(job.peakRssBytes),
    log: job.log ?? null,
    detached: job.detached === true,
    attached: job.attached === true,
    src: job.src ?? null,
    tail: (job.tail ?? []).filter((l): l is string => typeof l === 'string'),
  };
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function num(v: unknown): number | null {
  return isNumber(v) ? v : null;
}

function trimTrailingBlank(lines: readonly string[]): string[] {
  let end = lines.length;
  while (end > 0 && !lines[end - 1]?.trim()) end--;
  return lines.slice(0, end);
}
