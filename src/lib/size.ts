// Byte sizes as users type them on the command line ("32G", "32GB", "32GiB", "500M", "1.5T",
// "1024"): binary units (base 1024, as `free -g` and nvidia-smi count), a bare number is bytes.
// A bad size is a UserError naming the option and the value.
import { UserError } from './errors.js';

const UNIT_POWER: Readonly<Record<string, number>> = { '': 0, K: 1, M: 2, G: 3, T: 4, P: 5 };

const SIZE_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([KMGTP]?)(?:I?B)?\s*$/i;

/** `text` in bytes (rounded down to a whole byte), or what is wrong with it, naming no option. */
export function sizeOf(text: string): { bytes: number } | { problem: string } {
  const m = SIZE_RE.exec(String(text));
  const unit = m?.[2]?.toUpperCase() ?? '';
  const power = UNIT_POWER[unit];
  const value = m ? Number(m[1]) : NaN;
  if (!m || power === undefined || !Number.isFinite(value)) {
    return { problem: `"${text}" is not a size; use a number of bytes or one with a unit, like 500M, 32G or 1.5T (base 1024)` };
  }
  const bytes = Math.floor(value * 1024 ** power);
  if (!Number.isSafeInteger(bytes)) return { problem: `"${text}" is too large` };
  return { bytes };
}

/** `text` in bytes; throws UserError naming `option` when it is not a size. */
export function parseSize(text: string, option: string): number {
  const r = sizeOf(text);
  if ('problem' in r) throw new UserError(`${option}: ${r.problem}`);
  return r.bytes;
}
