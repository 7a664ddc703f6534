// The CLI entry point's path (dist/cli/index.js), for re-executing flurm (`run -d`). This module
// sits beside index.ts in src/cli/ so the relative URL is right both in tsc's output and in the
// fast-path bundle (dist/cli/fast-commands.js), which share that directory.
import { fileURLToPath } from 'node:url';

export const CLI_ENTRY = fileURLToPath(new URL('./index.js', import.meta.url));
