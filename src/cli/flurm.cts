#!/usr/bin/env node
// The `flurm` executable. Wrapping a job must cost little more than starting Node, and Node 20
// spends several ms initialising its ESM loader and building ES-module facades for built-ins: so
// `run`, `notify`, `watch` (and the internal `__detached`) go to fast-bundle.cjs, a CommonJS
// bundle of the fast path made at build time (scripts/postbuild.mjs); every other command goes to
// commander-bundle.cjs, the same for commander, zod and the command table (index.js is the same
// dispatch as plain ES modules). Keep the command list in step with FAST_COMMANDS in index.ts.
import type * as CommanderBundle from './commander-bundle.js';
import type * as FastBundle from './fast-bundle.js';

const fast = new Set(['run', 'notify', 'watch', '__detached']);
const cmd = process.argv[2];
if (cmd !== undefined && fast.has(cmd)) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bundle = require('./fast-bundle.cjs') as typeof FastBundle;
  bundle.exitWith(bundle.runFastCommand(cmd, process.argv.slice(3)));
} else {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bundle = require('./commander-bundle.cjs') as typeof CommanderBundle;
  bundle.start(() => bundle.runCommander(process.argv.slice(2)));
}
