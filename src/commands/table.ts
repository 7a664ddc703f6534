// The command table's types: what one query command is (name, one-line description, arguments as
// a zod object, run), what it answers (neutral messages, a typed JSON result, where the data came
// from, an exit code) and what it may use (a DataSource, see source.ts, and a small context).
// Every front end — the CLI, the hub's POST /api/v1/commands/NAME, later Discord, Slack and MCP —
// is generated from these entries and only renders what run() returns; none of them decides
// between agent nodes and SLURM, or falls back, on its own.
import type { z } from 'zod';
import type { Message } from '../model/message.js';
import type { DataSource } from './source.js';

/** Where an answer's data came from: the hub, the snapshot files (no hub), live commands here, or the person's own spool (jobs, no hub). */
export interface Where {
  source: 'hub' | 'files' | 'live' | 'spool';
  /** The hub's URL when the data came from it. */
  hub: string | null;
  /** ISO time the data is "as of". */
  generated: string;
}

export interface CommandAnswer<R extends object = Record<string, unknown>> {
  /** What a person reads, in order (status: the agent nodes, then SLURM partitions and nodes). */
  messages: Message[];
  /** The typed result: `--json` prints `{source, hub, generated, ...result}`. */
  result: R;
  where: Where;
  /** 0, or 1 when the answer is "no" (best: nothing fits); 2 is for bad arguments, never set here. */
  exitCode: 0 | 1;
}

export interface CommandContext {
  /** The unix user asking, when known (the CLI: $USER; the hub: not yet, so null). */
  user: string | null;
  /** A warning for the person asking (the CLI prints it on stderr). */
  warn(line: string): void;
}

/** How the CLI spells an argument that is not a plain `--name <value>` option. */
export interface CliHints {
  /** Arguments taken as positional words, in order (`flurm inspect NODE`). */
  positional?: readonly string[];
  /** Short flags: `{ all: 'a' }` gives `-a, --all`. */
  short?: Readonly<Record<string, string>>;
  /** CLI-only arguments the other front ends do not offer (inspect --live needs the user's own ssh). */
  only?: readonly string[];
  /** Table cells are cut to this many characters in the terminal (default 60). */
  maxCellChars?: number;
  /**
   * The CLI offers `--wait [--wait-minutes N]`: ask again until the answer is yes (exit 0) —
   * `flurm best --wait` waits for a node to fit. Other front ends have their own way
   * (Discord's /when-free DMs once).
   */
  wait?: boolean;
  /**
   * The answer carries a chart (Message.chart): the CLI draws it in the terminal and offers
   * `--png FILE` / `--svg FILE` to write it as a picture.
   */
  picture?: boolean;
}

export interface CommandDef<S extends z.ZodObject = z.ZodObject, R extends object = Record<string, unknown>> {
  name: string;
  /** One line, shown in `flurm --help`, Discord's command list, MCP's tool list. */
  description: string;
  /** Every argument: name, type, units, default and help (`.describe()`), validated by every front end. */
  args: S;
  cli?: CliHints;
  /** The answer is about the person asking (their jobs): a chat shows it to them only. */
  personal?: boolean;
  run(args: z.output<S>, source: DataSource, ctx: CommandContext): Promise<CommandAnswer<R>>;
}

/** For type inference at the definition site: `export default defineCommand({...})`. */
export function defineCommand<S extends z.ZodObject, R extends object>(def: CommandDef<S, R>): CommandDef<S, R> {
  return def;
}

/** Arguments that do not fit the schema: the field and what is wrong, for each front end to word. */
export class CommandArgsError extends Error {
  constructor(
    readonly command: string,
    readonly issues: { field: string; message: string }[],
  ) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
    this.name = 'CommandArgsError';
  }
}
