// What the fast-path bundle (dist/cli/fast-bundle.cjs, built by scripts/postbuild.mjs) exports
// to flurm.cts.
export { runFastCommand } from './fast-commands.js';
export { exitWith } from './exit.js';
