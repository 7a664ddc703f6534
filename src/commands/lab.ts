// The lab's own chat commands ([[chat.commands]] in the hub config, docs/chat.md) as command-table
// entries: no arguments, one neutral Message each. A file's lines (all, or one at random), a fixed
// reply, or a command's output (argv, no shell, via lib/exec.ts: timeout, output cap). The config
// was checked at start-up (file readable, command on the PATH); what goes wrong later (the file
// vanished, the command failed or hung) is an answer that says so, never a crash.
// Only the hub's chat front ends get these; the CLI and POST /api/v1/commands do not.
import { z } from 'zod';
import { ConfigError, ExecError, errorMessage } from '../lib/errors.js';
import { execCommand } from '../lib/exec.js';
import { readSmallText } from '../lib/small-file.js';
import type { Message } from '../model/message.js';
import { BOT_COMMAND_NAMES } from '../model/chat-commands.js';
import { COMMANDS } from './registry.js';
import { defineCommand, type CommandAnswer, type CommandDef } from './table.js';

/** One `[[chat.commands]]` entry, as the config validated it (file already absolute). */
export interface LabCommandEntry {
  name: string;
  description?: string;
  file?: string;
  pick?: 'all' | 'random';
  reply?: string;
  run?: readonly string[];
  timeout_seconds?: number;
}

/** A lab command's file is read up to this size. */
export const LAB_FILE_MAX_BYTES = 256 * 1024;
/** A command printing more than this is killed (and the answer says so). */
export const LAB_RUN_MAX_BYTES = 64 * 1024;
/** What an answer shows of a file or an output (Discord's embed description holds 4096). */
export const LAB_SHOW_CHARS = 3500;

export interface LabOptions {
  /** [0, 1) for pick = "random"; Math.random by default. */
  random?: () => number;
  now?: () => number;
}

/**
 * The entries as command-table entries. Throws ConfigError naming `chat.commands[i].name` when a
 * name is taken by the table or the bot.
 */
export function labCommands(entries: readonly LabCommandEntry[], opts: LabOptions = {}): CommandDef[] {
  const taken = new Set([...COMMANDS.map((c) => c.name), ...BOT_COMMAND_NAMES]);
  const seen = new Set<string>();
  return entries.map((e, i) => {
    if (taken.has(e.name)) throw new ConfigError(`chat.commands[${i}].name`, `"${e.name}" is taken by flurm's own /${e.name}`);
    if (seen.has(e.name)) throw new ConfigError(`chat.commands[${i}].name`, `"${e.name}" is used by another lab command`);
    seen.add(e.name);
    return labCommand(e, opts) as unknown as CommandDef;
  });
}

function labCommand(e: LabCommandEntry, opts: LabOptions) {
  const now = opts.now ?? Date.now;
  const description = e.description ?? (e.file ? `The lab's list: ${e.name}` : e.run ? `Runs ${e.run[0]} on the hub` : `The lab's note: ${e.name}`);
  return defineCommand({
    name: e.name,
    description: description.slice(0, 100),
    args: z.object({}),
    async run(): Promise<CommandAnswer<{ lab: true; kind: string }>> {
      const kind = e.file !== undefined ? 'file' : e.run ? 'run' : 'reply';
      const message = e.file !== undefined ? fileAnswer(e, e.file, opts.random ?? Math.random) : e.run ? await runAnswer(e, e.run) : { title: `/${e.name}`, severity: 'info' as const, summary: e.reply ?? '' };
      return { messages: [message], result: { lab: true, kind }, where: { source: 'hub', hub: null, generated: new Date(now()).toISOString() }, exitCode: 0 };
    },
  });
}

/** Lines of a list file: blank lines and # comments skipped. */
export function listEntries(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function fileAnswer(e: LabCommandEntry, file: string, random: () => number): Message {
  let text: string;
  try {
    text = readSmallText(file, LAB_FILE_MAX_BYTES);
  } catch (err) {
    const gone = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { title: `/${e.name}`, severity: 'warning', summary: gone ? `The list is gone: ${file} no longer exists. Ask the lab admin.` : `Cannot read the list: ${errorMessage(err)}` };
  }
  const lines = listEntries(text);
  if (lines.length === 0) return { title: `/${e.name}`, severity: 'info', summary: 'The list is empty.' };
  if (e.pick === 'random') {
    const one = lines[Math.min(lines.length - 1, Math.floor(random() * lines.length))]!;
    return { title: `/${e.name}`, severity: 'info', summary: cut(one, LAB_SHOW_CHARS) };
  }
  return { title: `/${e.name}`, severity: 'info', summary: codeBlock(lines.join('\n')), footer: `${lines.length} ${lines.length === 1 ? 'entry' : 'entries'}` };
}

async function runAnswer(e: LabCommandEntry, argv: readonly string[]): Promise<Message> {
  const timeoutMs = (e.timeout_seconds ?? 10) * 1000;
  const title = `/${e.name}`;
  try {
    const r = await execCommand(argv[0]!, argv.slice(1), {
      timeoutMs,
      maxOutputBytes: LAB_RUN_MAX_BYTES,
      // Any exit status is an answer: a non-zero one is shown, not thrown.
      okExitCodes: Array.from({ length: 256 }, (_, i) => i),
    });
    const out = [r.stdout.trimEnd(), r.stderr.trimEnd()].filter(Boolean).join('\n');
    if (r.exitCode !== 0) return { title, severity: 'failure', summary: `\`${argv[0]}\` exited with status ${r.exitCode}${out ? `\n${codeBlock(out)}` : ' (no output)'}` };
    return { title, severity: 'info', summary: out ? codeBlock(out) : '(no output)' };
  } catch (err) {
    const d = err instanceof ExecError ? err.details : null;
    if (d?.timedOut) return { title, severity: 'failure', summary: `\`${argv[0]}\` did not finish within ${timeoutMs / 1000} s; it was stopped.` };
    if (d?.signal) return { title, severity: 'failure', summary: `\`${argv[0]}\` was killed by ${d.signal}.` };
    return { title, severity: 'failure', summary: cut(errorMessage(err), LAB_SHOW_CHARS) };
  }
}

/** Text cut to `max` characters, saying so. */
function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 12)}\n… (cut)`;
}

/** A code block whose content cannot close it early, cut to fit. */
function codeBlock(text: string): string {
  return '```\n' + cut(text.replace(/```/g, '`\u200b``'), LAB_SHOW_CHARS) + '\n```';
}
