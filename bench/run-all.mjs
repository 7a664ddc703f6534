#!/usr/bin/env node
// Runs every benchmark in sequence (or those named: `node bench/run-all.mjs latency idle`) and
// prints a summary table of each figure beside its target. Exits 0 when every script ran, even
// when targets were missed (the table says MISSED); 1 when a script itself failed.
//
//   npm run bench                     (= node bench/run-all.mjs; build first: npm run build)
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { loadResults, requireBuild } from './lib.mjs';

// legacy last: it prints its figures beside those the others just saved.
const ALL = ['overhead', 'latency', 'ingest', 'idle', 'agent', 'nodes-commands', 'metrics', 'charts', 'history', 'mcp', 'dashboard', 'slurm', 'faults', 'discord', 'slack', 'legacy'];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !ALL.includes(w));
if (unknown.length) {
  console.error(`unknown bench: ${unknown.join(', ')} (known: ${ALL.join(', ')})`);
  process.exit(2);
}
const names = wanted.length ? ALL.filter((n) => wanted.includes(n)) : ALL;
requireBuild();

const ran = [];
const t0 = Date.now();
for (const name of names) {
  const t = Date.now();
  const r = spawnSync(process.execPath, [path.join(import.meta.dirname, `${name}.mjs`)], { stdio: 'inherit' });
  ran.push({ name, ok: r.status === 0, seconds: (Date.now() - t) / 1000, status: r.status ?? r.signal });
}

const rows = [];
for (const { name, ok, status } of ran) {
  const res = ok ? loadResults(name) : null;
  if (!res) {
    rows.push([name, `bench failed (exit ${status})`, '', 'ERROR']);
    continue;
  }
  for (const f of res.figures) {
    if (f.ok === null && !f.id) continue; // context lines stay in the script's own output
    rows.push([f.label.trim(), f.text.replace(/\s+/g, ' ').slice(0, 70), f.target ?? '(context)', f.ok === null ? '' : f.ok ? 'OK' : 'MISSED']);
  }
}
const head = ['figure', 'measured', 'target', ''];
const w = head.map((h, i) => Math.min(i === 1 ? 70 : 60, Math.max(h.length, ...rows.map((r) => r[i].length))));
const [load] = os.loadavg();
console.log(`\n== summary: ${new Date().toISOString()}, ${os.cpus().length} cores, node ${process.version}, load average ${load.toFixed(2)}, ${((Date.now() - t0) / 1000).toFixed(0)} s ==`);
for (const r of [head, ...rows]) console.log('  ' + r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd());
const missed = rows.filter((r) => r[3] === 'MISSED').length;
const errors = rows.filter((r) => r[3] === 'ERROR').length;
console.log(`  ${rows.filter((r) => r[3] === 'OK').length} OK, ${missed} MISSED${errors ? `, ${errors} benches failed` : ''}`);
process.exit(errors ? 1 : 0);
