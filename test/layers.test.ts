// Layers run one way: every import of a product file in src/ is allowed by the table in
// docs/architecture.md, and the table names exactly the folders there are. The checker itself
// is tested first, on made-up files, so a green run means something.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLayers, importsOf, parseRules, readSrc } from './support/layers.js';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('the layering checker', () => {
  const rules = parseRules(['intro', '| folder | may import | why |', '| --- | --- | --- |', '| `lib` | — | base |', '| `model` | `lib` | shapes |', '| `cli` | `lib`, `model` | top |', '', 'after'].join('\n'));

  it('reads the table', () => {
    expect([...rules.keys()]).toEqual(['lib', 'model', 'cli']);
    expect([...rules.get('cli')!]).toEqual(['lib', 'model']);
    expect(rules.get('lib')!.size).toBe(0);
  });

  it('finds every kind of import, also across lines', () => {
    const text = [
      "import a from '../lib/a.js';",
      "import type { B } from '../model/b.js';",
      "import {\n  c,\n  d,\n} from '../lib/c.js';",
      "export { e } from './e.js';",
      "export * from '../model/f.js';",
      "const g = await import('../cli/g.js');",
      "import '../lib/side-effect.js';",
      "import fs from 'node:fs';",
    ].join('\n');
    expect(importsOf(text)).toEqual(['../lib/a.js', '../model/b.js', '../lib/c.js', './e.js', '../model/f.js', '../cli/g.js', '../lib/side-effect.js']);
  });

  it('names an upward import, a folder missing from the table, and an import out of src/', () => {
    const problems = checkLayers(
      [
        { rel: 'model/ok.ts', text: "import { x } from '../lib/x.js';" },
        { rel: 'model/bad.ts', text: "import type { Y } from '../cli/y.js';" },
        { rel: 'lib/out.ts', text: "import { z } from '../../test/z.js';" },
        { rel: 'extra/e.ts', text: '' },
      ],
      rules,
      ['lib', 'model', 'cli', 'extra'],
    );
    expect(problems).toEqual([
      'src/extra/ is not in the table of docs/architecture.md',
      'src/model/bad.ts imports ../cli/y.js: model may not import cli (docs/architecture.md)',
      'src/lib/out.ts imports ../../test/z.js: it leaves src/',
    ]);
  });
});

describe('src/', () => {
  it('imports only downward, as docs/architecture.md says', () => {
    const rules = parseRules(fs.readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8'));
    const { files, folders } = readSrc(path.join(ROOT, 'src'));
    expect(files.length).toBeGreaterThan(100);
    expect(checkLayers(files, rules, folders)).toEqual([]);
  });
});
