// After tsc: copy assets (the diagnosis pattern pack, shell-init.sh, the dashboard's page) into dist/, bundle the fast
// path, make the executables executable. `flurm run` must start in little more than Node itself:
// Node 20 spends ~0.8 ms per ES module loaded and more to start its ESM loader, so the fast path
// (fast-commands.ts and everything it imports, ~15 modules) becomes one CommonJS file,
// dist/cli/fast-bundle.cjs, which the executable dist/cli/flurm.cjs requires directly. npm
// packages stay external; modules the fast path imports lazily stay lazy inside the bundle.
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

// The dashboard's static page (src/web: HTML, CSS, plain ES modules; no build step of its own):
// copied as it is to dist/web, which hub/http/dashboard.ts serves beside dist/charts/option.js.
const webSrc = path.join(root, 'src', 'web');
const webOut = path.join(root, 'dist', 'web');
fs.rmSync(webOut, { recursive: true, force: true });
fs.mkdirSync(webOut, { recursive: true });
for (const name of fs.readdirSync(webSrc)) {
  if (/\.(html|js|css|svg)$/.test(name)) fs.copyFileSync(path.join(webSrc, name), path.join(webOut, name));
}

/** A CommonJS bundle in dist/cli/ of the entry src/cli/<name>.ts. */
function cliBundle(name, opts) {
  return build({
    entryPoints: [path.join(root, `src/cli/${name}.ts`)],
    outfile: path.join(root, `dist/cli/${name}.cjs`),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    // CommonJS has no import.meta; the modules that use it (lib/cli-entry.ts) get this file's URL.
    define: { 'import.meta.url': '__flurmBundleUrl' },
    banner: { js: 'const __flurmBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
    ...opts,
  });
}

await cliBundle('fast-bundle', {
  packages: 'external',
  plugins: [
    {
      // The notifier registry (all notifiers and renderers) loads only for --to: it stays out of
      // the bundle, as tsc's own (ESM) file next door, so the common path does not compile it.
      name: 'lazy-registry',
      setup(b) {
        b.onResolve({ filter: /\/notifiers\/registry\.js$/ }, () => ({ path: '../notifiers/registry.js', external: true }));
      },
    },
  ],
});

// Every other command: commander, zod and the command table in one CommonJS file (npm packages
// that only some commands need stay external). A module imported lazily (`await import('./x.js')`)
// stays a separate file, tsc's own next door: its path is rewritten to be relative to dist/cli/.
await cliBundle('commander-bundle', {
  external: ['better-sqlite3', 'hono', '@hono/node-server', 'hono/*', 'nodemailer', 'smol-toml'],
  plugins: [
    {
      name: 'lazy-stays-lazy',
      setup(b) {
        b.onResolve({ filter: /^\.\.?\//, namespace: 'file' }, (args) => {
          if (args.kind !== 'dynamic-import') return undefined;
          const target = path.resolve(args.resolveDir, args.path);
          let rel = path.relative(path.join(root, 'src/cli'), target);
          if (!rel.startsWith('.')) rel = './' + rel;
          return { path: rel, external: true };
        });
      },
    },
  ],
});

for (const f of ['dist/cli/flurm.cjs', 'dist/cli/index.js']) {
  const p = path.join(root, f);
  if (fs.existsSync(p)) fs.chmodSync(p, 0o755);
}
