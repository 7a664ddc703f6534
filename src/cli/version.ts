// The package version, read once from package.json.
import fs from 'node:fs';

let cached: string | undefined;
export function packageVersion(): string {
  if (cached) return cached;
  try {
    cached = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    cached = 'unknown';
  }
  return cached;
}
