// A secret the hub config points at: a file (`*_file`, bounded read, `~/` expanded, relative to the
// config) or an environment variable (`*_env`). Never logged: errors name the field and where it
// was looked for, never the value.
import os from 'node:os';
import path from 'node:path';
import { UserError, errorMessage } from '../lib/errors.js';
import { readBoundedText } from './load.js';

export interface SecretRef {
  /** The field as the config spells it, e.g. "[discord] token" (the `_file`/`_env` suffix is added). */
  field: string;
  file?: string;
  env?: string;
  /** What it is, in words ("the bot token"). */
  what: string;
}

export function readSecret(ref: SecretRef, configDir: string, processEnv: NodeJS.ProcessEnv = process.env): string {
  let value: string | undefined;
  if (ref.env) {
    value = processEnv[ref.env]?.trim();
    if (!value) throw new UserError(`${ref.field}_env: the environment variable ${ref.env} is not set (or empty)`);
  } else if (ref.file) {
    const file = ref.file.startsWith('~/') ? path.join(os.homedir(), ref.file.slice(2)) : path.resolve(configDir, ref.file);
    try {
      value = readBoundedText(file, 4096).trim();
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' || /ENOENT/.test(errorMessage(err)) ? 'no such file' : errorMessage(err);
      throw new UserError(`${ref.field}_file: cannot read ${file}: ${why}`, { cause: err });
    }
    if (!value) throw new UserError(`${ref.field}_file: ${file} is empty`);
  } else {
    throw new UserError(`${ref.field}: needs ${ref.field.replace(/^\[[^\]]*\] /, '')}_file or ${ref.field.replace(/^\[[^\]]*\] /, '')}_env`);
  }
  if (/\s/.test(value)) throw new UserError(`${ref.field}: ${ref.what} ${ref.env ? `in $${ref.env}` : `in ${ref.field.replace(/^\[[^\]]*\] /, '')}_file`} has spaces in it; it should be one word`);
  return value;
}
