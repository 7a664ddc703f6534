// Load averages from /proc/loadavg: "l1 l5 l15 running/total lastpid" (proc(5)).
import fs from 'node:fs';
import { procPath, type CollectorResult, type ProcRootOptions } from './types.js';

export interface Loadavg {
  /** 1, 5 and 15 minute load averages. */
  load: [number, number, number];
  runnable: number;
  /** Scheduling entities (threads) that exist. */
  entities: number;
}

/** Parse /proc/loadavg. Throws on text that is not a loadavg line. */
export function parseLoadavg(text: string): Loadavg {
  const f = text.trim().split(/\s+/);
  const load = [Number(f[0]), Number(f[1]), Number(f[2])] as [number, number, number];
  const [runnable, entities] = (f[3] ?? '').split('/').map(Number);
  if (f.length < 4 || load.some((x) => !Number.isFinite(x) || x < 0)) {
    throw new Error(`not a /proc/loadavg line: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { load, runnable: runnable ?? NaN, entities: entities ?? NaN };
}

export function collectLoadavg(opts: ProcRootOptions = {}): CollectorResult<Loadavg> {
  return { value: parseLoadavg(fs.readFileSync(procPath(opts, 'loadavg'), 'utf8')) };
}
