// Splitting a list on a separator that may also appear inside brackets: SLURM host lists
// ("node[1-3,5],gpu1"), GRES with index lists ("gpu:a100:2(IDX:0,2),mps:100"). One function, so
// every parser nests the same way.

/**
 * `text` split on `sep` (one character) where it is outside any `[...]` or `(...)`; brackets of
 * both kinds count toward one depth, and a stray closer never takes it below 0. Pieces are
 * returned as they are (not trimmed; empty ones kept): "a[1,2],,b" → ["a[1,2]", "", "b"].
 */
export function splitTopLevel(text: string, sep = ','): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '[' || ch === '(') depth++;
    else if (ch === ']' || ch === ')') depth = Math.max(0, depth - 1);
    else if (ch === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}
