// `flurm notify [-t TITLE] MESSAGE`: write a `note` event to the user's spool and ring the hub's
// doorbell (best-effort, short timeout). For scripts: a milestone, a result, "sweep done".
import { MESSAGE_MAX_CHARS, clip, type NoteEvent } from '../../spool/events.js';
import { envelope, jobDescription, writerOrigin } from '../../spool/envelope.js';
import { appendEvent } from '../../spool/writer.js';
import { spoolDir } from '../../lib/host.js';
import { ringHub } from '../../lib/doorbell.js';

export interface NotifyOptions {
  message: string;
  title?: string;
  /** Already validated destinations (cli/fast-commands.ts). */
  to: string[];
  quiet: boolean;
}

export interface NotifyDeps {
  env: NodeJS.ProcessEnv;
  doorbellTimeoutMs: number;
}

export async function run(opts: NotifyOptions, deps: Partial<NotifyDeps> = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const spool = spoolDir(env);
  const origin = writerOrigin(env);
  const note: NoteEvent = { ...envelope('note', origin), message: clip(opts.message, MESSAGE_MAX_CHARS), ...jobDescription({ title: opts.title, to: opts.to }) };
  appendEvent(spool, note);
  await ringHub(env, spool, origin.user, deps.doorbellTimeoutMs ?? 300);
  return 0;
}
