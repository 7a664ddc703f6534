// The layering rule of docs/architecture.md as code: parse its "| folder | may import | why |"
// table, collect every relative import of the product files under src/, and list each import the
// table does not allow. Pure functions (no fs) apart from the two readers at the bottom, so the
// checker itself is tested on made-up input.
import fs from 'node:fs';
import path from 'node:path';

export type Rules = Map<string, Set<string>>;

/** The table's rows: folder → the folders it may import. Throws when there is no such table. */
export function parseRules(markdown: string): Rules {
  const rules: Rules = new Map();
  let inTable = false;
  for (const line of markdown.split('\n')) {
    const cells = line.trim().startsWith('|') ? line.trim().slice(1, -1).split('|').map((c) => c.trim()) : null;
    if (!cells) {
      if (inTable && rules.size) break;
      continue;
    }
    if (cells[0] === 'folder' && cells[1] === 'may import') {
      inTable = true;
      continue;
    }
    if (!inTable || /^-+$/.test(cells[0]!)) continue;
    const folder = cells[0]!.replace(/`/g, '');
    const allowed = cells[1] === '—' || cells[1] === '' ? [] : cells[1]!.split(',').map((c) => c.trim().replace(/`/g, ''));
    rules.set(folder, new Set(allowed));
  }
  if (rules.size === 0) throw new Error('no "| folder | may import | why |" table found');
  return rules;
}

/** Every relative specifier a TypeScript file imports: static, type-only, re-exports, dynamic, multi-line. */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  const re = /(?:\bimport\s*(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?|\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s+from\s+|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

export interface SrcFile {
  /** Path relative to src/, e.g. "hub/ingest.ts". */
  rel: string;
  text: string;
}

/** The top-level folder of a path relative to src/ ("(root)" for a file directly in src/). */
export function folderOf(rel: string): string {
  const parts = rel.split('/');
  return parts.length > 1 ? parts[0]! : '(root)';
}

/** Every import the rules do not allow, and every folder the rules do not name, in words. */
export function checkLayers(files: readonly SrcFile[], rules: Rules, folders: readonly string[]): string[] {
  const problems: string[] = [];
  for (const f of folders) if (!rules.has(f)) problems.push(`src/${f}/ is not in the table of docs/architecture.md`);
  for (const f of rules.keys()) if (!folders.includes(f)) problems.push(`docs/architecture.md names ${f}, which is not a folder of src/`);
  for (const file of files) {
    const from = folderOf(file.rel);
    for (const spec of importsOf(file.text)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file.rel), spec));
      if (target.startsWith('..')) {
        problems.push(`src/${file.rel} imports ${spec}: it leaves src/`);
        continue;
      }
      const to = folderOf(target);
      if (to === from) continue;
      if (!rules.get(from)?.has(to)) problems.push(`src/${file.rel} imports ${spec}: ${from} may not import ${to} (docs/architecture.md)`);
    }
  }
  return problems;
}

/** The product files under `srcDir` (no tests), with their text. */
export function readSrc(srcDir: string): { files: SrcFile[]; folders: string[] } {
  const files: SrcFile[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mts|cts)$/.test(e.name) && !/\.test\.[mc]?ts$/.test(e.name) && !e.name.endsWith('.d.ts')) {
        files.push({ rel: path.relative(srcDir, p).split(path.sep).join('/'), text: fs.readFileSync(p, 'utf8') });
      }
    }
  };
  walk(srcDir);
  const folders = fs.readdirSync(srcDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  if (files.some((f) => folderOf(f.rel) === '(root)')) folders.push('(root)');
  return { files, folders };
}
