// `/flurm best gpus=1 mem=32G`: Slack hands a slash command one line of text. This turns it into
// the raw arguments of one command table entry, accepting what people type — `key=value`,
// `--key value`, `--key=value`, a bare `--flag`, kebab or snake names (`gpu-mem`, `gpu_mem`),
// quoted values, and the entry's positional words (`/flurm top gpu1`). What it cannot read is a
// usage answer naming the problem (an unknown command with the nearest name, an unknown option
// with the ones there are), never a guess. Values are validated by commands/invoke.ts, as for
// every front end.
import { commandSchema } from '../../commands/invoke.js';
import type { CommandDef } from '../../commands/table.js';

export type ParsedCommandText =
  | { ok: true; def: CommandDef; args: Record<string, unknown> }
  | { ok: false; help: true }
  | { ok: false; help?: false; usage: string };

interface Prop {
  type?: string;
  description?: string;
}

/** Words of a line, with "double" or 'single' quotes keeping blanks; Slack's smart quotes count too. */
export function splitWords(text: string): string[] {
  const close: Record<string, string> = { '"': '"', "'": "'", '“': '”', '‘': '’', '”': '”' };
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (close[ch]) {
      quote = close[ch]!;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

function nearest(word: string, names: readonly string[]): string | null {
  let best: string | null = null;
  let score = Infinity;
  for (const n of names) {
    const s = distance(word, n);
    if (s < score) [best, score] = [n, s];
  }
  return best !== null && score <= (best.length >= 4 ? 2 : 1) ? best : null;
}

function value(p: Prop | undefined, v: string): unknown {
  if (p?.type === 'integer' || p?.type === 'number') return v.trim() === '' ? NaN : Number(v);
  if (p?.type === 'boolean') {
    if (/^(true|yes|on|1)$/i.test(v)) return true;
    if (/^(false|no|off|0)$/i.test(v)) return false;
    return v; // the entry's validation names the field
  }
  return v;
}

/** How one entry is asked: `/flurm best [cpus=N] [mem=SIZE] …`. */
export function usageOf(def: CommandDef, slash = '/flurm'): string {
  const s = commandSchema(def, { frontEnd: 'other' });
  const props = ((s.args as { properties?: Record<string, Prop> }).properties ?? {}) as Record<string, Prop>;
  const parts = Object.entries(props).map(([k, p]) => (s.positional.includes(k) ? k.toUpperCase() : p.type === 'boolean' ? `${k}=true` : `${k}=${p.type === 'integer' || p.type === 'number' ? 'N' : '…'}`));
  return `${slash} ${def.name}${parts.length ? ` [${parts.join('] [')}]` : ''}`;
}

/**
 * Parse the text of `/flurm …` (or of an alias, `fixed` naming its command) against `defs`.
 * Empty text or `help` asks for help.
 */
export function parseCommandText(text: string, defs: readonly CommandDef[], opts: { fixed?: string; slash?: string } = {}): ParsedCommandText {
  const slash = opts.slash ?? '/flurm';
  const words = splitWords(text);
  let name = opts.fixed;
  if (name === undefined) {
    const first = words.shift();
    if (first === undefined || /^(help|-h|--help|\?)$/i.test(first)) return { ok: false, help: true };
    name = first.toLowerCase();
  }
  const def = defs.find((d) => d.name === name);
  if (!def) {
    const near = nearest(name, defs.map((d) => d.name));
    return { ok: false, usage: `flurm has no command \`${name}\`.${near ? ` Did you mean \`${slash} ${near}\`?` : ''} \`${slash} help\` lists them.` };
  }
  const s = commandSchema(def, { frontEnd: 'other' });
  const props = ((s.args as { properties?: Record<string, Prop> }).properties ?? {}) as Record<string, Prop>;
  const names = Object.keys(props);
  const keyOf = (k: string) => {
    const n = k.replace(/-/g, '_').toLowerCase();
    return names.includes(n) ? n : null;
  };
  const unknown = (k: string) => {
    const near = nearest(k.replace(/-/g, '_').toLowerCase(), names);
    return { ok: false as const, usage: `\`${k}\` is not an option of \`${slash} ${def.name}\`${near ? ` (did you mean \`${near}\`?)` : ''}. Usage: \`${usageOf(def, slash)}\`` };
  };
  const args: Record<string, unknown> = {};
  const positional = [...s.positional];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const eq = /^(?:--)?([A-Za-z][\w-]*)=(.*)$/s.exec(w);
    if (eq) {
      const k = keyOf(eq[1]!);
      if (!k) return unknown(eq[1]!);
      args[k] = value(props[k], eq[2]!);
      continue;
    }
    const flag = /^--([A-Za-z][\w-]*)$/.exec(w);
    if (flag) {
      const k = keyOf(flag[1]!);
      if (!k) return unknown(flag[1]!);
      const next = words[i + 1];
      if (props[k]?.type === 'boolean' && (next === undefined || !/^(true|false|yes|no|on|off|1|0)$/i.test(next))) args[k] = true;
      else if (next === undefined) return { ok: false, usage: `\`--${flag[1]}\` needs a value. Usage: \`${usageOf(def, slash)}\`` };
      else args[k] = value(props[k], words[++i]!);
      continue;
    }
    const p = positional.shift();
    if (p === undefined) return { ok: false, usage: `\`${w}\`: \`${slash} ${def.name}\` takes options as key=value. Usage: \`${usageOf(def, slash)}\`` };
    args[p] = value(props[p], w);
  }
  return { ok: true, def, args };
}
