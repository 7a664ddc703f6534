// promtool (Prometheus' own linter) for the /metrics tests: /usr/bin/promtool, or the file named
// by FLURM_PROMTOOL (.ci/run extracts it from Debian's `prometheus` package without installing
// the server). Absent, the check FAILS with how to get it — unless FLURM_SKIP_PROMTOOL=1.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export const PROMTOOL_INSTALL =
  'promtool not found: cd /tmp && apt-get download prometheus && dpkg -x prometheus_*.deb /tmp/prom, then FLURM_PROMTOOL=/tmp/prom/usr/bin/promtool (or FLURM_SKIP_PROMTOOL=1 to skip this check)';

export const skipPromtool = process.env.FLURM_SKIP_PROMTOOL === '1';

export function findPromtool(): string | null {
  for (const p of [process.env.FLURM_PROMTOOL, '/usr/bin/promtool']) if (p && fs.existsSync(p)) return p;
  return null;
}

/** `promtool check metrics < body`: its exit code and everything it printed. Throws when promtool is absent. */
export function promtoolCheck(body: string): { code: number | null; output: string } {
  const bin = findPromtool();
  if (!bin) throw new Error(PROMTOOL_INSTALL);
  const r = spawnSync(bin, ['check', 'metrics'], { input: body, encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { code: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}
