// Calling a command the same way from every front end: the raw arguments are checked against the
// entry's zod schema (unknown names refused, each problem naming its field), then run() gets the
// typed arguments. And the table as JSON Schema, for GET /api/v1/commands and the generators.
import { z } from 'zod';
import { formatPath } from '../lib/field-path.js';
import { errorMessage, UserError } from '../lib/errors.js';
import type { Message } from '../model/message.js';
import type { DataSource } from './source.js';
import { CommandArgsError, type CommandAnswer, type CommandContext, type CommandDef } from './table.js';

/** `raw` checked against the entry's schema; CommandArgsError naming each bad field. */
export function parseArgs(def: CommandDef, raw: unknown, opts: { frontEnd?: 'cli' | 'other' } = {}): Record<string, unknown> {
  const r = def.args.strict().safeParse(raw ?? {});
  if (!r.success) {
    throw new CommandArgsError(
      def.name,
      r.error.issues.map((i) =>
        i.code === 'unrecognized_keys'
          ? { field: i.keys.join(', '), message: `not an argument of ${def.name}` }
          : { field: formatPath(i.path), message: i.message },
      ),
    );
  }
  const args = r.data as Record<string, unknown>;
  if (opts.frontEnd !== 'cli') {
    const only = (def.cli?.only ?? []).filter((k) => args[k] !== undefined);
    if (only.length) throw new CommandArgsError(def.name, only.map((k) => ({ field: k, message: 'only the CLI offers this' })));
  }
  return args;
}

export async function invoke(def: CommandDef, raw: unknown, source: DataSource, ctx: CommandContext, opts: { frontEnd?: 'cli' | 'other' } = {}): Promise<CommandAnswer> {
  return def.run(parseArgs(def, raw, opts), source, ctx);
}

export interface CommandSchema {
  name: string;
  description: string;
  /** JSON Schema (draft 2020-12) of the arguments: names, types, units, defaults, help. */
  args: Record<string, unknown>;
  positional: readonly string[];
}

/** One entry as JSON Schema; CLI-only arguments are left out for the other front ends. */
export function commandSchema(def: CommandDef, opts: { frontEnd?: 'cli' | 'other' } = {}): CommandSchema {
  const only = opts.frontEnd === 'cli' ? [] : (def.cli?.only ?? []);
  const shape = only.length ? def.args.omit(Object.fromEntries(only.map((k) => [k, true])) as Record<string, true> & Record<number, never>) : def.args;
  return {
    name: def.name,
    description: def.description,
    args: z.toJSONSchema(shape, { io: 'input' }) as Record<string, unknown>,
    positional: (def.cli?.positional ?? []).filter((k) => !only.includes(k)),
  };
}

/**
 * A command that did not answer, as the person asking reads it in any chat: the fields and what
 * is wrong (CommandArgsError), the refusal (UserError), or that the hub could not answer.
 * `asked` is how that front end names the command ("/best", "/flurm best").
 */
export function errorAnswer(err: unknown, asked: (command: string) => string): Message {
  if (err instanceof CommandArgsError) return { title: `${asked(err.command)}: bad option`, severity: 'warning', summary: err.issues.map((x) => `${x.field}: ${x.message}`).join('\n') };
  if (err instanceof UserError) return { title: 'Cannot answer', severity: 'warning', summary: err.message };
  return { title: 'Something went wrong', severity: 'failure', summary: `The hub could not answer: ${errorMessage(err)}` };
}
