// The lab's own commands as table entries: a file (all, random, vanished), a reply, a command's
// output (a non-zero exit, a timeout, the output cap), and names that clash with flurm's.
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { invoke } from './invoke.js';
import { LAB_SHOW_CHARS, labCommands } from './lab.js';
import type { DataSource } from './source.js';
import type { CommandDef } from './table.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-lab-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const source = {} as DataSource;
const ctx = { user: null, warn: () => undefined };
const ask = async (def: CommandDef) => (await invoke(def, {}, source, ctx)).messages;

describe('lab commands', () => {
  it('a file: every entry (blank lines and # comments skipped), or one at random; a vanished file is an answer', async () => {
    const file = path.join(dir, 'papers.txt');
    fs.writeFileSync(file, '# our advisor\nAttention Is All You Need\n\n  Deep Residual Learning  \n# more\nAdam\n');
    let r = 0;
    const [all, random] = labCommands(
      [
        { name: 'papers', description: 'Papers by our advisor', file },
        { name: 'paper', file, pick: 'random' },
      ],
      { random: () => r },
    );
    expect(all!.name).toBe('papers');
    expect(all!.description).toBe('Papers by our advisor');
    const [m] = await ask(all!);
    expect(m!.summary).toBe('```\nAttention Is All You Need\nDeep Residual Learning\nAdam\n```');
    expect(m!.footer).toBe('3 entries');
    r = 0.99;
    expect((await ask(random!))[0]!.summary).toBe('Adam');
    r = 0.4;
    expect((await ask(random!))[0]!.summary).toBe('Deep Residual Learning');

    fs.rmSync(file);
    const [gone] = await ask(all!);
    expect(gone!.severity).toBe('warning');
    expect(gone!.summary).toMatch(/The list is gone: .*papers\.txt no longer exists/);
  });

  it('a reply', async () => {
    const [def] = labCommands([{ name: 'gpu-etiquette', reply: 'Ask in #gpu before taking more than 2 GPUs.' }]);
    const [m] = await ask(def!);
    expect(m).toMatchObject({ title: '/gpu-etiquette', summary: 'Ask in #gpu before taking more than 2 GPUs.' });
    expect(def!.args.shape).toEqual({});
  });

  it('a command: its output in a code block, a non-zero exit shown, a timeout, the output cap', async () => {
    const [df, fails, hangs, long, flood] = labCommands([
      { name: 'disk', run: ['df', '-h', '/'] },
      { name: 'fails', run: ['sh', '-c', 'echo half done; echo broken >&2; exit 3'] },
      { name: 'hangs', run: ['sleep', '30'], timeout_seconds: 0.3 },
      { name: 'long', run: ['seq', '1', '3000'] },
      { name: 'flood', run: ['seq', '1', '200000'] },
    ]);
    const [m] = await ask(df!);
    expect(m!.severity).toBe('info');
    expect(m!.summary).toMatch(/^```\nFilesystem[\s\S]*\/\n```$/);

    const [f] = await ask(fails!);
    expect(f!.severity).toBe('failure');
    expect(f!.summary).toContain('`sh` exited with status 3');
    expect(f!.summary).toContain('half done\nbroken');

    const t0 = Date.now();
    const [h] = await ask(hangs!);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(h!.summary).toBe('`sleep` did not finish within 0.3 s; it was stopped.');

    const [l] = await ask(long!);
    expect(l!.summary!.length).toBeLessThanOrEqual(LAB_SHOW_CHARS + 8);
    expect(l!.summary).toMatch(/^```\n1\n2\n3\n[\s\S]*… \(cut\)\n```$/);

    const [x] = await ask(flood!);
    expect(x!.severity).toBe('failure');
    expect(x!.summary).toMatch(/printed more than 65536 bytes on stdout; killed/);
  });

  it('refuses a name taken by the table or the bot, naming the field', () => {
    expect(() => labCommands([{ name: 'ok', reply: 'x' }, { name: 'status', reply: 'x' }])).toThrow(/chat\.commands\[1\]\.name: "status" is taken by flurm's own \/status/);
    expect(() => labCommands([{ name: 'when-free', reply: 'x' }])).toThrow(/chat\.commands\[0\]\.name/);
    expect(() => labCommands([{ name: 'a', reply: 'x' }, { name: 'a', reply: 'y' }])).toThrow(/chat\.commands\[1\]\.name: "a" is used by another/);
  });
});
