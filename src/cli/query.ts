// The CLI front end of the command table: one commander subcommand per entry of
// commands/registry.ts — positional words and `--kebab-case` options from the entry's zod schema
// (type, default and help from its JSON Schema), plus `--json` and `--hub URL` — validated by the
// same schema as every other front end, run against the CLI's DataSource (cli/source.ts) and
// rendered: JSON (`{source, hub, generated, ...result}`, never coloured) or the messages for the
// terminal. Exit 0, 1 when the answer is "no" (best: nothing fits), 2 for bad arguments.
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { invoke, commandSchema } from '../commands/invoke.js';
import { COMMANDS, findCommand } from '../commands/registry.js';
import { CommandArgsError, type CommandAnswer, type CommandDef } from '../commands/table.js';
import { colourEnabled } from '../frontends/cli/colour.js';
import { renderMessageForTerminal } from '../frontends/cli/message.js';
import { UserError } from '../lib/errors.js';
import { formatDuration } from '../lib/format.js';
import { userName } from '../lib/host.js';
import type { MessageHint } from '../model/message.js';
import { createCliSource, stderrWarn } from './source.js';

type JsonSchema = { type?: string; format?: string; description?: string; default?: unknown; properties?: Record<string, JsonSchema> };

const kebab = (k: string) => k.replace(/_/g, '-');
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** How the CLI writes an argument's name: `--gpu-mem`, or `NODE` for a positional one. */
function cliName(def: CommandDef, field: string): string {
  return def.cli?.positional?.includes(field) ? field.toUpperCase() : `--${kebab(field)}`;
}

/** `flurm best --slurm`, `flurm top NODE`: a hint in the CLI's syntax. */
export function cliHint(h: MessageHint): string {
  const def = findCommand(h.command);
  const words = ['flurm', h.command];
  for (const [k, v] of Object.entries(h.args ?? {})) {
    if (def?.cli?.positional?.includes(k)) words.push(String(v));
    else if (v === true) words.push(`--${kebab(k)}`);
    else if (v !== false) words.push(`--${kebab(k)}`, String(v));
  }
  return words.join(' ');
}

/** A CommandArgsError in the CLI's words: "--mem: "32Q" is not a size …", "--limit must be a positive integer, got "x"". */
function usageError(def: CommandDef, err: CommandArgsError, raw: Record<string, string>): UserError {
  const lines = err.issues.map((i) => {
    const name = i.field.split(', ').map((f) => cliName(def, f)).join(', ');
    const got = raw[i.field];
    if (/^(must|is) /.test(i.message)) return `${name}${got !== undefined && def.cli?.positional?.includes(i.field) ? ` "${got}"` : ''} ${i.message}${got !== undefined && !def.cli?.positional?.includes(i.field) ? `, got "${got}"` : ''}`;
    return `${name}: ${i.message}`;
  });
  return new UserError(lines.join('\n'), { cause: err });
}

function print(def: CommandDef, answer: CommandAnswer, json: boolean, env: NodeJS.ProcessEnv): void {
  if (json) {
    const { source, hub, generated } = answer.where;
    process.stdout.write(JSON.stringify({ source, hub, generated, ...answer.result }, null, 2) + '\n');
    return;
  }
  process.stdout.write(renderAnswer(def, answer, colourEnabled(process.stdout, env)));
}

/** An answer's messages as the terminal shows them, a blank line between. */
export function renderAnswer(def: CommandDef, answer: Pick<CommandAnswer, 'messages'>, colour: boolean): string {
  const max = def.cli?.maxCellChars;
  // A chart fills the terminal's width (at most 160 columns, 80 when piped).
  const width = Math.min(160, process.stdout.columns || 80);
  return answer.messages.map((m) => renderMessageForTerminal(m, { colour, renderHint: cliHint, width, ...(max ? { maxCellChars: max } : {}) })).join('\n');
}

/** `--wait` asks again this often (ms); FLURM_WAIT_EVERY_MS shortens it for tests. */
const WAIT_EVERY_MS = Number(process.env.FLURM_WAIT_EVERY_MS) > 0 ? Number(process.env.FLURM_WAIT_EVERY_MS) : 5000;

/** Run one entry with CLI-shaped input (raw strings and flags by field name). Returns the exit code. */
export async function runQuery(def: CommandDef, raw: Record<string, unknown>, strings: Record<string, string>, opts: { json?: boolean; hub?: string; waitMinutes?: number; png?: string; svg?: string }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    // A fresh source each time: one source fetches each hub document once.
    const ask = () => invoke(def, raw, createCliSource({ ...(opts.hub ? { hub: opts.hub } : {}), env }), { user: userName(env), warn: stderrWarn }, { frontEnd: 'cli' });
    let answer = await ask();
    if (opts.waitMinutes !== undefined && answer.exitCode !== 0) {
      // --wait: ask again every WAIT_EVERY_MS (the agents' own interval) until yes or the deadline.
      const until = Date.now() + opts.waitMinutes * 60_000;
      process.stderr.write(`flurm: not yet; asking again every ${WAIT_EVERY_MS / 1000} s for up to ${formatDuration(opts.waitMinutes * 60)} (Ctrl-C stops)\n`);
      while (answer.exitCode !== 0 && Date.now() + WAIT_EVERY_MS <= until) {
        await new Promise((r) => setTimeout(r, WAIT_EVERY_MS));
        answer = await ask();
      }
      if (answer.exitCode !== 0) process.stderr.write(`flurm: still no after ${formatDuration(opts.waitMinutes * 60)}\n`);
    }
    print(def, answer, opts.json === true, env);
    if (opts.png || opts.svg) await writePictures(answer, { png: opts.png, svg: opts.svg });
    return answer.exitCode;
  } catch (err) {
    if (err instanceof CommandArgsError) throw usageError(def, err, strings);
    throw err;
  }
}

/**
 * `--png FILE` / `--svg FILE`: the answer's chart as a picture (charts/render.ts; echarts and
 * resvg are imported only here). Written whole to FILE.tmp, then renamed. An answer without a
 * chart (no history yet) writes nothing and says so on stderr.
 */
async function writePictures(answer: CommandAnswer, files: { png?: string | undefined; svg?: string | undefined }): Promise<void> {
  const chart = answer.messages.find((m) => m.chart)?.chart;
  if (!chart) {
    process.stderr.write('flurm: no chart in this answer (nothing recorded in that range yet): no picture written\n');
    return;
  }
  const { renderPng, renderSvg } = await import('../charts/render.js');
  const write = (file: string, data: string | Buffer) => {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, data);
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw new UserError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    process.stderr.write(`flurm: wrote ${file}\n`);
  };
  // Twice the pixels: sharp on a phone or a laptop screen.
  if (files.png) write(files.png, await renderPng(chart, { scale: 2 }));
  if (files.svg) write(files.svg, await renderSvg(chart));
}

/** Declare every entry of the table as a subcommand of `program`; `setCode` receives its exit code. */
export function addQueryCommands(program: Command, setCode: (code: number) => void): void {
  for (const def of COMMANDS) {
    const schema = commandSchema(def, { frontEnd: 'cli' });
    const props = (schema.args as JsonSchema).properties ?? {};
    const required = new Set(((schema.args as { required?: string[] }).required ?? []).filter((k) => props[k]?.default === undefined));
    const positional = schema.positional;
    const cmd = program.command(def.name).description(def.description);
    for (const k of positional) cmd.argument(required.has(k) ? `<${k}>` : `[${k}]`, props[k]?.description ?? '');
    for (const [k, p] of Object.entries(props)) {
      if (positional.includes(k)) continue;
      const short = def.cli?.short?.[k];
      const flag = `${short ? `-${short}, ` : ''}--${kebab(k)}`;
      const help = `${p.description ?? ''}${p.default !== undefined ? ` (default: ${JSON.stringify(p.default)})` : ''}`;
      if (p.type === 'boolean') cmd.addOption(new Option(flag, help));
      else cmd.addOption(new Option(`${flag} <${p.type === 'integer' || p.type === 'number' ? 'n' : p.format === 'size' ? 'size' : k}>`, help));
    }
    if (def.cli?.wait) {
      cmd.addOption(new Option('--wait', 'until the answer is yes: ask again every 5 s'));
      cmd.addOption(new Option('--wait-minutes <n>', 'with --wait: give up after this long (default: 1440, a day)'));
    }
    if (def.cli?.picture) {
      cmd.addOption(new Option('--png <file>', 'also write the chart as a PNG picture'));
      cmd.addOption(new Option('--svg <file>', 'also write the chart as an SVG picture'));
    }
    cmd.addOption(new Option('--json', 'machine-readable output'));
    cmd.addOption(new Option('--hub <url>', 'ask this hub (default: from hub.json)'));
    cmd.action(async (...params: unknown[]) => {
      const opts = params[positional.length] as Record<string, unknown>;
      const raw: Record<string, unknown> = {};
      const strings: Record<string, string> = {};
      positional.forEach((k, i) => {
        if (params[i] !== undefined) raw[k] = strings[k] = params[i] as string;
      });
      for (const [k, p] of Object.entries(props)) {
        const v = opts[camel(k)];
        if (positional.includes(k) || v === undefined) continue;
        if (typeof v === 'string') strings[k] = v;
        raw[k] = (p.type === 'integer' || p.type === 'number') && typeof v === 'string' ? (v.trim() === '' ? NaN : Number(v)) : v;
      }
      let waitMinutes: number | undefined;
      if (opts.waitMinutes !== undefined && !opts.wait) throw new UserError('--wait-minutes goes with --wait');
      if (opts.wait) {
        waitMinutes = opts.waitMinutes === undefined ? 1440 : Number(opts.waitMinutes);
        if (!Number.isFinite(waitMinutes) || waitMinutes <= 0) throw new UserError(`--wait-minutes must be a positive number of minutes, got "${String(opts.waitMinutes)}"`);
      }
      const pictures = { ...(typeof opts.png === 'string' ? { png: opts.png } : {}), ...(typeof opts.svg === 'string' ? { svg: opts.svg } : {}) };
      setCode(await runQuery(def, raw, strings, { json: opts.json === true, ...(typeof opts.hub === 'string' ? { hub: opts.hub } : {}), ...(waitMinutes !== undefined ? { waitMinutes } : {}), ...pictures }));
    });
  }
}
