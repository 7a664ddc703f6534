// The command table as Discord application commands (issue 11 builds the bot on this): one slash
// command per entry, its options from the entry's JSON Schema (integer, number, string with
// choices, boolean; autocomplete where the values come from the live cluster, e.g. node names),
// within Discord's documented limits (name 1–32 lowercase, description 1–100, ≤ 25 options,
// required ones first, ≤ 25 choices). And the way back: an interaction's option values as the raw
// arguments every front end hands to commands/invoke.ts. definitionHash() lets the bot register
// with one bulk overwrite only when a definition changed (Discord allows 200 creates a day).
import { createHash } from 'node:crypto';
import type {
  APIApplicationCommandBasicOption,
  APIApplicationCommandInteractionDataBasicOption,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
  RESTPutAPIApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { commandSchema } from '../../commands/invoke.js';
import type { CommandDef } from '../../commands/table.js';
import { truncate } from '../../lib/format.js';

/** Discord's limits for application commands (docs: Application Commands, "Registering a Command"). */
export const DISCORD_COMMAND_LIMITS = {
  name: 32,
  description: 100,
  options: 25,
  choices: 25,
  /** A name: lowercase letters, digits, - and _ (the documented CHAT_INPUT pattern, Latin subset). */
  nameRe: /^[-_\p{Ll}\p{N}]{1,32}$/u,
} as const;

/** Option types of discord-api-types' ApplicationCommandOptionType, by value (a type import only). */
const OPTION = { string: 3, integer: 4, boolean: 5, number: 10 } as const;

interface PropSchema {
  type?: string;
  description?: string;
  enum?: unknown[];
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  default?: unknown;
  autocomplete?: string;
}

/** The table's names with `_` are fine in Discord (`gpu_mem`); anything else is refused loudly. */
function checkName(name: string, what: string): string {
  if (!DISCORD_COMMAND_LIMITS.nameRe.test(name)) throw new Error(`${what} "${name}" is not a valid Discord command name`);
  return name;
}

function optionOf(name: string, p: PropSchema, required: boolean): APIApplicationCommandBasicOption {
  const description = truncate(p.description?.trim() || name, DISCORD_COMMAND_LIMITS.description);
  const base = { name: checkName(name, 'option'), description, ...(required ? { required: true } : {}) };
  switch (p.type) {
    case 'integer':
    case 'number': {
      const min = p.exclusiveMinimum !== undefined ? p.exclusiveMinimum + (p.type === 'integer' ? 1 : 0) : p.minimum;
      // Discord's own bounds are ±2^53; a schema's larger "maximum" is no limit worth sending.
      const max = p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER ? p.maximum : undefined;
      return { ...base, type: p.type === 'integer' ? OPTION.integer : OPTION.number, ...(min !== undefined ? { min_value: min } : {}), ...(max !== undefined ? { max_value: max } : {}) } as APIApplicationCommandBasicOption;
    }
    case 'boolean':
      return { ...base, type: OPTION.boolean } as APIApplicationCommandBasicOption;
    case 'string': {
      if (p.enum && p.enum.length <= DISCORD_COMMAND_LIMITS.choices) {
        return { ...base, type: OPTION.string, choices: p.enum.map((v) => ({ name: String(v), value: String(v) })) } as APIApplicationCommandBasicOption;
      }
      return { ...base, type: OPTION.string, ...(p.autocomplete ? { autocomplete: true } : {}) } as APIApplicationCommandBasicOption;
    }
    default:
      throw new Error(`option "${name}": JSON Schema type ${String(p.type)} has no Discord option type`);
  }
}

/** Every entry as a CHAT_INPUT command: the body of one bulk overwrite (PUT …/commands). */
export function discordCommands(defs: readonly CommandDef[]): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return defs.map((def) => {
    const s = commandSchema(def);
    const props = ((s.args as { properties?: Record<string, PropSchema> }).properties ?? {}) as Record<string, PropSchema>;
    const required = new Set(((s.args as { required?: string[] }).required ?? []).filter((k) => props[k]?.default === undefined));
    const names = Object.keys(props);
    if (names.length > DISCORD_COMMAND_LIMITS.options) throw new Error(`command "${def.name}" has ${names.length} arguments; Discord allows ${DISCORD_COMMAND_LIMITS.options}`);
    // Discord wants the required options first; otherwise the table's order.
    const ordered = [...names.filter((n) => required.has(n)), ...names.filter((n) => !required.has(n))];
    return {
      type: 1 as const,
      name: checkName(def.name, 'command'),
      description: truncate(def.description, DISCORD_COMMAND_LIMITS.description),
      ...(ordered.length ? { options: ordered.map((n) => optionOf(n, props[n]!, required.has(n))) } : {}),
    };
  });
}

/** A stable hash of the definitions: register again only when it changes. */
export function definitionHash(body: RESTPutAPIApplicationCommandsJSONBody): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
}

/** An interaction's options (name/value pairs) as the raw arguments of the entry. */
export function argsFromOptions(options: readonly Pick<APIApplicationCommandInteractionDataBasicOption, 'name' | 'value'>[] | undefined): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const o of options ?? []) raw[o.name] = o.value;
  return raw;
}
