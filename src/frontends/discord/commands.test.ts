import { describe, expect, it } from 'vitest';
import type { APIApplicationCommandBasicOption, RESTPostAPIChatInputApplicationCommandsJSONBody, RESTPutAPIApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { parseArgs } from '../../commands/invoke.js';
import { COMMANDS, findCommand } from '../../commands/registry.js';
import { DISCORD_COMMAND_LIMITS, argsFromOptions, definitionHash, discordCommands } from './commands.js';

const body: RESTPostAPIChatInputApplicationCommandsJSONBody[] = discordCommands(COMMANDS);
// What the bulk overwrite takes: the same body, checked by the compiler.
const _put: RESTPutAPIApplicationCommandsJSONBody = body;
void _put;
const byName = (n: string) => body.find((c) => c.name === n)!;
const opts = (n: string) => ((byName(n) as { options?: APIApplicationCommandBasicOption[] }).options ?? []);

describe('the command table as Discord application commands', () => {
  it('one slash command per entry, every name and description within what Discord accepts', () => {
    expect(body.map((c) => c.name)).toEqual(COMMANDS.map((c) => c.name));
    for (const c of body) {
      expect(c.name).toMatch(DISCORD_COMMAND_LIMITS.nameRe);
      expect(c.description!.length).toBeGreaterThan(0);
      expect(c.description!.length).toBeLessThanOrEqual(100);
      const o = (c as { options?: APIApplicationCommandBasicOption[] }).options ?? [];
      expect(o.length).toBeLessThanOrEqual(25);
      // Required options before optional ones, as Discord demands.
      const firstOptional = o.findIndex((x) => !x.required);
      if (firstOptional >= 0) expect(o.slice(firstOptional).every((x) => !x.required), c.name).toBe(true);
      for (const x of o) {
        expect(x.name).toMatch(DISCORD_COMMAND_LIMITS.nameRe);
        expect(x.description.length).toBeLessThanOrEqual(100);
      }
    }
  });

  it('best: integers with a minimum, sizes as strings, slurm as a boolean; no CLI-only option anywhere', () => {
    const best = opts('best');
    expect(best.map((o) => [o.name, o.type])).toEqual([
      ['cpus', ApplicationCommandOptionType.Integer],
      ['mem', ApplicationCommandOptionType.String],
      ['gpus', ApplicationCommandOptionType.Integer],
      ['gpu_mem', ApplicationCommandOptionType.String],
      ['partition', ApplicationCommandOptionType.String],
      ['slurm', ApplicationCommandOptionType.Boolean],
    ]);
    expect(best.find((o) => o.name === 'gpus')).toMatchObject({ min_value: 1, description: 'free GPUs needed' });
    expect(best.find((o) => o.name === 'gpus')).not.toHaveProperty('max_value');
    // inspect: the node is required and autocompleted; `live` (the CLI's own ssh) is not offered.
    expect(opts('inspect')).toEqual([{ name: 'node', description: 'host name', required: true, type: ApplicationCommandOptionType.String, autocomplete: true }]);
    expect(opts('top')[0]).toMatchObject({ name: 'node', autocomplete: true });
    expect(opts('top')[0]!.required).toBeUndefined();
    expect(opts('jobs').find((o) => o.name === 'limit')!.required).toBeUndefined();
  });

  it("an interaction's option values are the arguments the table validates", () => {
    const args = argsFromOptions([
      { name: 'gpus', value: 2 },
      { name: 'mem', value: '32G' },
      { name: 'slurm', value: true },
    ]);
    expect(parseArgs(findCommand('best')!, args)).toEqual({ gpus: 2, mem: '32G', slurm: true });
    expect(() => parseArgs(findCommand('best')!, argsFromOptions([{ name: 'mem', value: 'lots' }]))).toThrow(/mem: "lots" is not a size/);
    expect(argsFromOptions(undefined)).toEqual({});
  });

  it('the definition hash changes exactly when a definition does', () => {
    const h = definitionHash(body);
    expect(definitionHash(discordCommands(COMMANDS))).toBe(h);
    const changed = structuredClone(body);
    changed[0]!.description = 'something else';
    expect(definitionHash(changed)).not.toBe(h);
  });
});
