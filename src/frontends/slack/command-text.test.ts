import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/registry.js';
import { parseArgs } from '../../commands/invoke.js';
import { CommandArgsError } from '../../commands/table.js';
import { parseCommandText, splitWords, usageOf } from './command-text.js';

const ok = (text: string, fixed?: string) => {
  const r = parseCommandText(text, COMMANDS, fixed ? { fixed } : {});
  if (!r.ok) throw new Error(`not parsed: ${JSON.stringify(r)}`);
  return { name: r.def.name, args: r.args };
};
const usage = (text: string) => {
  const r = parseCommandText(text, COMMANDS);
  if (r.ok || r.help) throw new Error(`parsed: ${JSON.stringify(r)}`);
  return r.usage;
};

describe('/flurm text → a command and its arguments', () => {
  it('reads key=value, --key value, --key=value and kebab or snake names alike', () => {
    expect(ok('best gpus=1 mem=32G')).toEqual({ name: 'best', args: { gpus: 1, mem: '32G' } });
    expect(ok('best --gpus 1 --mem 32G')).toEqual({ name: 'best', args: { gpus: 1, mem: '32G' } });
    expect(ok('best --gpu-mem=20G gpu_mem=24G')).toEqual({ name: 'best', args: { gpu_mem: '24G' } });
    expect(ok('BEST cpus=8')).toEqual({ name: 'best', args: { cpus: 8 } });
  });

  it('reads bare flags and boolean words, positional words, and quoted values', () => {
    expect(ok('best --slurm')).toEqual({ name: 'best', args: { slurm: true } });
    expect(ok('best slurm=yes')).toEqual({ name: 'best', args: { slurm: true } });
    expect(ok('jobs --running --limit 5')).toEqual({ name: 'jobs', args: { running: true, limit: 5 } });
    expect(ok('top gpu1')).toEqual({ name: 'top', args: { node: 'gpu1' } });
    expect(ok('best partition="gpu long"')).toEqual({ name: 'best', args: { partition: 'gpu long' } });
    expect(splitWords('a “b c” \'d e\'  ')).toEqual(['a', 'b c', 'd e']);
  });

  it('an alias names its command: /sciencecluster is best', () => {
    expect(ok('gpus=2', 'best')).toEqual({ name: 'best', args: { gpus: 2 } });
    expect(ok('', 'status')).toEqual({ name: 'status', args: {} });
  });

  it('empty text or help asks for help', () => {
    expect(parseCommandText('', COMMANDS)).toEqual({ ok: false, help: true });
    expect(parseCommandText('  help ', COMMANDS)).toEqual({ ok: false, help: true });
  });

  it('a typo gets a usage answer naming it, with the nearest name', () => {
    expect(usage('bets gpus=1')).toBe('flurm has no command `bets`. Did you mean `/flurm best`? `/flurm help` lists them.');
    expect(usage('xyzzy')).toBe('flurm has no command `xyzzy`. `/flurm help` lists them.');
    expect(usage('best gpu=1')).toMatch(/^`gpu` is not an option of `\/flurm best` \(did you mean `gpus`\?\)\. Usage: `\/flurm best \[cpus=N\] \[mem=…\]/);
    expect(usage('best --mem')).toMatch(/^`--mem` needs a value/);
    expect(usage('best lots')).toMatch(/^`lots`: `\/flurm best` takes options as key=value/);
  });

  it('values are the table\'s to judge: a bad size is the entry\'s error, naming the field', () => {
    const r = ok('best mem=32Q gpus=two');
    const def = COMMANDS.find((d) => d.name === 'best')!;
    try {
      parseArgs(def, r.args, { frontEnd: 'other' });
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(CommandArgsError);
      expect((err as CommandArgsError).issues.map((i) => i.field).sort()).toEqual(['gpus', 'mem']);
    }
  });

  it('CLI-only arguments are not offered (inspect --live needs the user\'s own ssh)', () => {
    expect(usage('inspect gpu1 --live')).toMatch(/`live` is not an option/);
    expect(usageOf(COMMANDS.find((d) => d.name === 'inspect')!)).toBe('/flurm inspect [NODE]');
  });
});
