// After tsc: make the CLI executable and copy JSON assets (the diagnosis pattern pack) into dist/.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cli = path.join(root, 'dist/cli/index.js');
if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);

function copyJson(dir) {
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) copyJson(p);
    else if (ent.name.endsWith('.json') || ent.name.endsWith('.sh')) {
      const out = path.join(root, 'dist', path.relative(path.join(root, 'src'), p));
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.copyFileSync(p, out);
    }
  }
}
copyJson(path.join(root, 'src'));
