// Expanding the hub config's `spools.homes` ("/home/*", "/data/home/*") into home directories.
// Only a trailing-segment glob ("*", "?", "[...]" inside one path segment) is supported: enough for
// home directories and bounded (one readdir per pattern segment).
import fs from 'node:fs';
import path from 'node:path';

const MAX_HOMES = 100_000;

function globToRegExp(seg: string): RegExp {
  let re = '';
  for (const ch of seg) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function expandHomes(patterns: readonly string[]): string[] {
  const out = new Set<string>();
  for (const pat of patterns) {
    const abs = path.resolve(pat);
    const segs = abs.split('/').filter(Boolean);
    let bases = ['/'];
    for (const seg of segs) {
      const next: string[] = [];
      const wild = /[*?[]/.test(seg);
      for (const b of bases) {
        if (!wild) {
          next.push(path.join(b, seg));
          continue;
        }
        let names: string[] = [];
        try {
          names = fs.readdirSync(b);
        } catch {
          continue;
        }
        const re = globToRegExp(seg);
        for (const n of names) if (!n.startsWith('.') && re.test(n)) next.push(path.join(b, n));
      }
      bases = next.slice(0, MAX_HOMES);
    }
    for (const b of bases) {
      try {
        if (fs.statSync(b).isDirectory()) out.add(b);
      } catch {
        /* vanished */
      }
    }
  }
  return [...out].sort();
}
