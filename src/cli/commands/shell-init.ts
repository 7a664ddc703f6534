// `flurm shell-init bash`: prints the bash library (spool/shell-init.sh) that defines flurm_run
// and flurm_notify, for nodes with no Node.js: `eval "$(flurm shell-init bash)"` in ~/.bashrc, or
// save the output once and `source` it from the shared home. The file is read relative to this
// module, so it works from src/ (tests) and dist/ (scripts/postbuild.mjs copies *.sh).
import fs from 'node:fs';
import { UserError } from '../../lib/errors.js';

export const SUPPORTED_SHELLS = ['bash'] as const;

export function shellInitScriptUrl(): URL {
  return new URL('../../spool/shell-init.sh', import.meta.url);
}

export async function run(opts: { shell: string }, deps: { write?: (s: string) => void } = {}): Promise<number> {
  if (!(SUPPORTED_SHELLS as readonly string[]).includes(opts.shell)) {
    throw new UserError(`unsupported shell "${opts.shell}"; supported: ${SUPPORTED_SHELLS.join(', ')} (flurm_run needs bash; zsh and fish users can run it under bash)`);
  }
  let text: string;
  try {
    text = await fs.promises.readFile(shellInitScriptUrl(), 'utf8');
  } catch (err) {
    throw new UserError(`cannot read the bundled shell library ${shellInitScriptUrl().pathname}: ${(err as Error).message} (reinstall flurm)`, { cause: err });
  }
  (deps.write ?? ((s: string) => process.stdout.write(s)))(text);
  return 0;
}
