// Thin loading around the pure validators: read (bounded), parse TOML, validate, and check
// every destination URL and pattern at start-up so nothing fails at send time.
import fs from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { ConfigError, UserError } from '../lib/errors.js';
import { readSmallText } from '../lib/small-file.js';
import { validateHubConfig, validateUserConfig, type HubConfig, type UserConfig } from './schema.js';
import { parseDestination } from '../notifiers/registry.js';
import { loadPatterns } from '../diagnose/diagnose.js';

export const MAX_CONFIG_BYTES = 256 * 1024;

/** Read a small text file written by a user, refusing anything huge or not a regular file. */
export function readBoundedText(file: string, maxBytes = MAX_CONFIG_BYTES): string {
  try {
    return readSmallText(file, maxBytes);
  } catch (err) {
    throw new UserError((err as Error).message, { cause: err });
  }
}

export function parseTomlText(text: string, file: string): unknown {
  try {
    return parseToml(text);
  } catch (err) {
    const e = err as { message: string; line?: number; column?: number };
    throw new ConfigError('', `not valid TOML: ${e.message.split('\n')[0]}`, { file, cause: err });
  }
}

/** Check every destination URL in a list, naming the field path of a bad one. */
export function checkDestinations(urls: readonly string[], pathPrefix: string, file?: string): void {
  urls.forEach((u, i) => {
    try {
      parseDestination(u);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new ConfigError(`${pathPrefix}[${i}]`, msg, { file, cause: err });
    }
  });
}

export function loadHubConfig(file: string): HubConfig {
  let text: string;
  try {
    text = readBoundedText(file);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read hub config ${file}: ${(err as Error).message}`, { cause: err });
  }
  const cfg = validateHubConfig(parseTomlText(text, file), file);
  checkHubConfig(cfg, file);
  return cfg;
}

/** Start-up checks beyond the schema: destination URLs parse, patterns compile. */
export function checkHubConfig(cfg: HubConfig, file?: string): void {
  cfg.routes.forEach((r, i) => checkDestinations(r.to, `routes[${i}].to`, file));
  try {
    loadPatterns(cfg.diagnose.patterns);
  } catch (err) {
    if (err instanceof ConfigError && file && !err.message.startsWith(file)) throw new ConfigError('', err.message, { file, cause: err });
    throw err;
  }
}

/** Load a user's config.toml; a missing file is the default config. */
export function loadUserConfig(file: string): UserConfig {
  if (!fs.existsSync(file)) return validateUserConfig({});
  const cfg = validateUserConfig(parseTomlText(readBoundedText(file), file), file);
  checkDestinations(cfg.to, 'to', file);
  return cfg;
}
