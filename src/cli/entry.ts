// The flurm executable's path (dist/cli/flurm.cjs), for re-executing flurm (`run -d`). This module
// sits beside index.ts in src/cli/ so the relative URL is right both in tsc's output and in the
// fast-path bundle (dist/cli/fast-bundle.cjs), which share that directory.
import { fileURLToPath } from 'node:url';

export const CLI_ENTRY = fileURLToPath(new URL('./flurm.cjs', import.meta.url));
