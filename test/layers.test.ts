// Layers import downward only (DESIGN.md, Style 11): every relative import of every non-test
// source file under src/ must be allowed by the table in docs/architecture.md, every folder of
// src/ must have a row there, and no row may name a folder that is gone. The checker itself is
// tested first on synthetic files, so a green run means something.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkLayers, extractImportSpecifiers, isTestFile, parseLayerTable, ROOT_FOLDER, type SourceFile } from './support/layers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('the layer checker', () => {
  const table = [
    '| folder | may import | why |',
    '| --- | --- | --- |',
    '| `lib` | — | the floor |',
    '| `model` | `lib` | data |',
    '| `hub` | `lib`, `model` | the program |',
  ].join('\n');
  const rules = parseLayerTable(`# x\n\nintro\n\n${table}\n\nafter`);
  const folders = ['lib', 'model', 'hub'];

  it('parses the table', () => {
    expect([...rules.keys()]).toEqual(['lib', 'model', 'hub']);
    expect([...rules.get('lib')!]).toEqual([]);
    expect([...rules.get('hub')!]).toEqual(['lib', 'model']);
  });

  it('passes downward imports, self imports and packages', () => {
    const files: SourceFile[] = [
      { path: 'src/hub/a.ts', text: "import { x } from '../model/x.js';\nimport fs from 'node:fs';\nimport { z } from 'zod';\nimport { b } from './b.js';" },
      { path: 'src/model/x.ts', text: "export { e } from '../lib/errors.js';" },
    ];
    expect(checkLayers(files, rules, folders)).toEqual([]);
  });

  it('reports an upward import, in every syntax, with a readable line', () => {
    const files: SourceFile[] = [
      { path: 'src/model/a.ts', text: "import { h } from '../hub/h.js';" },
      { path: 'src/model/b.ts', text: "import type { H } from '../hub/h.js';" },
      { path: 'src/model/c.ts', text: "export * from '../hub/h.js';" },
      { path: 'src/model/d.ts', text: "export async function f() { return import('../hub/h.js'); }" },
      { path: 'src/model/e.ts', text: "import {\n  a,\n  b, // '../lib/ok.js'\n} from\n  '../hub/h.js';" },
      { path: 'src/model/f.ts', text: "let x: typeof import('../hub/h.js');" },
      { path: 'src/model/g.ts', text: "const M = '../hub/h.js';\nvoid import(M);" },
      { path: 'src/lib/deep/h.ts', text: "import '../../model/x.js';" },
      { path: 'src/model/h.cts', text: "const m = require('../hub/h.cjs');" },
    ];
    expect(checkLayers(files, rules, folders)).toEqual([
      'src/model/a.ts imports ../hub/h.js: model may not import hub (docs/architecture.md)',
      'src/model/b.ts imports ../hub/h.js: model may not import hub (docs/architecture.md)',
      'src/model/c.ts imports ../hub/h.js: model may not import hub (docs/architecture.md)',
      'src/model/d.ts imports ../hub/h.js: model may not import hub (docs/architecture.md)',
      'src/model/e.ts imports ../hub/h.js: model may not import hub (docs/architecture.md)',
      'src/model/f.ts imports ../hub/h.js: model may not import hub (docs/architecture.md)',
      'src/model/g.ts imports ../hub/h.js: model may not import hub (docs/architecture.md)',
      'src/lib/deep/h.ts imports ../../model/x.js: lib may not import model (docs/architecture.md)',
      'src/model/h.cts imports ../hub/h.cjs: model may not import hub (docs/architecture.md)',
    ]);
  });

  it('ignores imports mentioned in comments and strings', () => {
    const text = "// import { h } from '../hub/h.js';\n/* export * from '../hub/h.js' */\nconst s = \"import('../hub/h.js')\";";
    expect(checkLayers([{ path: 'src/model/a.ts', text }], rules, folders)).toEqual([]);
  });

  it('skips test files', () => {
    expect(checkLayers([{ path: 'src/lib/a.test.ts', text: "import '../hub/h.js';" }], rules, folders)).toEqual([]);
  });

  it('reports an import that leaves src/, and one it cannot resolve', () => {
    const files: SourceFile[] = [
      { path: 'src/hub/a.ts', text: "import { lab } from '../../test/support/lab.js';" },
      { path: 'src/hub/b.ts', text: "const name = 'x';\nvoid import(`../model/${name}.js`);" },
    ];
    expect(checkLayers(files, rules, folders)).toEqual([
      'src/hub/a.ts imports ../../test/support/lab.js: it leaves src/ (test/support/lab.js) (docs/architecture.md)',
      'src/hub/b.ts:2 has an import whose specifier is not a string literal or a const string; the layers cannot check it (docs/architecture.md)',
    ]);
  });

  it('reports a folder missing from the table, a row for a folder that is gone, and files directly in src/', () => {
    const files: SourceFile[] = [{ path: 'src/main.ts', text: "import '../src/lib/x.js';\nimport './hub/h.js';" }];
    expect(checkLayers(files, rules, ['lib', 'hub', 'store', ROOT_FOLDER])).toEqual([
      'src/store/ is missing from the layer table (docs/architecture.md)',
      "src/ (files directly in it, folder '(root)') is missing from the layer table (docs/architecture.md)",
      "the layer table names folder 'model', which does not exist under src/ (docs/architecture.md)",
      "the layer table lets 'hub' import 'model', which does not exist under src/ (docs/architecture.md)",
      'src/main.ts imports ../src/lib/x.js: (root) may not import lib (docs/architecture.md)',
      'src/main.ts imports ./hub/h.js: (root) may not import hub (docs/architecture.md)',
    ]);
  });

  it('rejects a malformed table', () => {
    expect(() => parseLayerTable('no table here')).toThrow(/no table/);
    expect(() => parseLayerTable('| folder | may import | why |\n| --- | --- | --- |\n| `a` | b | x |')).toThrow(/not a folder name in backticks/);
    expect(() => parseLayerTable('| folder | may import | why |\n| --- | --- | --- |\n| `a` | — |')).toThrow(/3 cells/);
  });

  it('finds every kind of specifier', () => {
    const text = [
      "import a from './a.js';",
      "import type { B } from './b.js';",
      "import './c.js';",
      "export { d } from './d.js';",
      "export type * from './e.js';",
      "import f = require('./f.js');",
      "const g = await import('./g.js');",
      "type H = import('./h.js').H;",
    ].join('\n');
    expect(extractImportSpecifiers(text, 'x.ts').map((s) => s.specifier)).toEqual(['./a.js', './b.js', './c.js', './d.js', './e.js', './f.js', './g.js', './h.js']);
  });
});

describe('src/', () => {
  it('imports only downward, as docs/architecture.md says', () => {
    const rules = parseLayerTable(fs.readFileSync(path.join(repo, 'docs/architecture.md'), 'utf8'));
    const src = path.join(repo, 'src');
    const entries = fs.readdirSync(src, { withFileTypes: true });
    const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name);
    const files: SourceFile[] = (fs.readdirSync(src, { recursive: true, encoding: 'utf8' }) as string[])
      .map((rel) => `src/${rel.split(path.sep).join('/')}`)
      .filter((p) => /\.[cm]?ts$/.test(p) && !isTestFile(p))
      .filter((p) => fs.statSync(path.join(repo, p)).isFile())
      .map((p) => ({ path: p, text: fs.readFileSync(path.join(repo, p), 'utf8') }));
    if (files.some((f) => f.path.split('/').length === 2)) folders.push(ROOT_FOLDER);
    expect(files.length).toBeGreaterThan(100); // the walk found the tree
    expect(checkLayers(files, rules, folders).join('\n')).toBe('');
  });
});
