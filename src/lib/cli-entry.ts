// The flurm executable's path (dist/cli/flurm.cjs), for re-executing flurm (`run -d`, `inspect
// --live` over ssh). Here in lib/ so the schedulers may use it without importing cli/. The URL
// "../cli/flurm.cjs" is right both in tsc's output (dist/lib/) and in the fast-path bundle
// (dist/cli/fast-bundle.cjs, whose import.meta.url postbuild defines as the bundle's own).
import { fileURLToPath } from 'node:url';

export const CLI_ENTRY = fileURLToPath(new URL('../cli/flurm.cjs', import.meta.url));
