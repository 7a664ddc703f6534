// After tsc: make the CLI executable, copy assets (the diagnosis pattern pack, shell-init.sh) into
// dist/, and bundle the fast path. `flurm run` must start in little more than Node itself, and
// Node 20 spends ~0.8 ms per ES module loaded: the fast path (fast-commands.ts and everything it
// imports, ~15 modules) becomes one file, replacing tsc's dist/cli/fast-commands.js. npm packages
// stay external; modules the fast path imports lazily stay lazy inside the bundle.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function copyAssets(dir) {
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) copyAssets(p);
    else if (ent.name.endsWith('.json') || ent.name.endsWith('.sh')) {
      const out = path.join(root, 'dist', path.relative(path.join(root, 'src'), p));
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.copyFileSync(p, out);
    }
  }
}
copyAssets(path.join(root, 'src'));

await build({
  entryPoints: [path.join(root, 'src/cli/fast-commands.ts')],
  outfile: path.join(root, 'dist/cli/fast-commands.js'),
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  plugins: [
    {
      // Kept out of the bundle, as tsc's own files next door:
      // - the notifier registry (all notifiers and renderers) loads only for --to, so the common
      //   path does not compile it;
      // - lib/errors.js must be ONE module shared with cli/index.ts, or `instanceof UserError`
      //   there fails for errors thrown in the bundle and usage errors look like crashes.
      name: 'shared-and-lazy-modules',
      setup(b) {
        b.onResolve({ filter: /\/notifiers\/registry\.js$/ }, () => ({ path: '../notifiers/registry.js', external: true }));
        b.onResolve({ filter: /\/lib\/errors\.js$/ }, () => ({ path: '../lib/errors.js', external: true }));
      },
    },
  ],
});

const cli = path.join(root, 'dist/cli/index.js');
if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
