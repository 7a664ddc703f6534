// What the commander bundle (dist/cli/commander-bundle.cjs, built by scripts/postbuild.mjs)
// exports to flurm.cts: every command but the fast ones, with commander, zod and the command
// table in one CommonJS file, so `flurm status` does not pay Node's ESM loader ~0.8 ms for each
// of the ~150 modules it would load. Subcommand modules imported lazily stay separate files.
export { runCommander } from './commander-commands.js';
export { start } from './start.js';
