// Shared helpers for the benchmark scripts: a throw-away lab on local disk, the real hub started
// from dist/ as a process, a JSON-webhook sink that records arrival times, /proc readers,
// percentiles, and the "figure beside its target" report lines. Plain Node ESM, no dependencies;
// nothing from src/ is imported (the benches drive the built CLI as real processes).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = path.resolve(import.meta.dirname, '..');
/** The CLI under test: dist/ of this checkout, or BENCH_FLURM=/other/dist/cli/flurm.cjs to compare builds. */
export const FLURM = process.env.BENCH_FLURM ? path.resolve(process.env.BENCH_FLURM) : path.join(ROOT, 'dist/cli/flurm.cjs');
export const RESULTS_DIR = path.join(import.meta.dirname, 'results');
export const CLK_TCK = 100; // Linux USER_HZ (getconf CLK_TCK); /proc/<pid>/stat times are in these ticks

export function requireBuild() {
  if (!fs.existsSync(FLURM)) {
    console.error(`bench: ${FLURM} is missing — run \`npm run build\` first`);
    process.exit(2);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wall clock in ms (CLOCK_REALTIME, comparable with `date +%s%N` and event `ts` on this host). */
export const nowMs = () => Date.now();

// ---- lab ------------------------------------------------------------------------------------

/** A throw-away lab under the OS temp dir (local disk): homes, cluster dir, index. */
export function makeLab(prefix = 'flurm-bench-') {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(root, 0o755);
  const cluster = path.join(root, 'cluster');
  fs.mkdirSync(cluster, { recursive: true });
  fs.mkdirSync(path.join(root, 'home'), { recursive: true });
  return {
    root,
    cluster,
    index: path.join(root, 'hubstate', 'index.db'),
    homes: path.join(root, 'home'),
    /** Create <root>/home/NAME/.flurm/events and return its paths and a job env. */
    home(name) {
      const home = path.join(root, 'home', name);
      const spool = path.join(home, '.flurm');
      fs.mkdirSync(path.join(spool, 'events'), { recursive: true, mode: 0o700 });
      return { home, spool, events: path.join(spool, 'events'), env: { ...process.env, HOME: home, FLURM_SPOOL: spool, FLURM_CLUSTER: cluster, FLURM_HOST: 'node1' } };
    },
    cleanup() {
      if (process.env.BENCH_KEEP) return console.log(`(lab kept: ${root})`);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Write hub.toml into the lab. `routes`: [{ on: ['all'], to: [url] }]; `ingest`: more [ingest] keys. */
export function writeHubConfig(lab, { poll = 1, rediscover = 30, legacy = false, routes = [], ingest = {}, extra = '' } = {}) {
  const toml = [
    `index = "${lab.index}"`,
    `cluster_dir = "${lab.cluster}"`,
    `[spools]`,
    `homes = ["${lab.homes}/*"]`,
    `legacy = ${legacy}`,
    `[http]`,
    `port = 0`,
    `[ingest]`,
    `poll_interval_seconds = ${poll}`,
    `rediscover_interval_seconds = ${rediscover}`,
    ...Object.entries(ingest).map(([k, v]) => `${k} = ${v}`),
    `[delivery]`,
    `timeout_seconds = 5`,
    `max_per_user_per_minute = 1000000`, // the flood cap (default 30/min) would suppress benchmark jobs
    ...routes.flatMap((r) => [`[[routes]]`, `on = ${JSON.stringify(r.on ?? ['all'])}`, `to = ${JSON.stringify(r.to)}`]),
    extra,
  ].join('\n');
  const file = path.join(lab.root, 'hub.toml');
  fs.writeFileSync(file, toml + '\n');
  return file;
}

/**
 * Start `flurm hub --config FILE` (stdout/stderr to <lab>/hub.log, never a pipe that could fill)
 * and wait for "hub running url=…". Returns { pid, url, child, log, startedMs, readyMs, stop }.
 * `nodeArgs` go before the script (e.g. ['--cpu-prof'] to profile the hub).
 */
export async function startHub(lab, configFile, { env = process.env, timeoutMs = 30_000, nodeArgs = [] } = {}) {
  const log = path.join(lab.root, `hub-${Date.now()}.log`);
  const fd = fs.openSync(log, 'a');
  const startedMs = nowMs();
  const child = spawn(process.execPath, [...nodeArgs, FLURM, 'hub', '--config', configFile], { stdio: ['ignore', fd, fd], env: { ...env, FLURM_LOG_LEVEL: env.FLURM_LOG_LEVEL ?? 'info' } });
  fs.closeSync(fd);
  let exited = false;
  const exitP = new Promise((r) => child.on('exit', () => ((exited = true), r())));
  let url = null;
  while (nowMs() - startedMs < timeoutMs) {
    const m = fs.readFileSync(log, 'utf8').match(/hub running url=(\S+)/);
    if (m) {
      url = m[1];
      break;
    }
    if (exited) break;
    await sleep(10);
  }
  if (!url) {
    child.kill('SIGKILL');
    throw new Error(`hub did not start:\n${fs.readFileSync(log, 'utf8')}`);
  }
  return {
    pid: child.pid,
    url,
    child,
    log,
    startedMs,
    readyMs: nowMs(),
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitP;
        clearTimeout(t);
      }
    },
  };
}

/** The hub config's effective values (`flurm config --config FILE`, defaults filled in), as TOML text. */
export async function effectiveConfig(configFile) {
  const r = await runProc(process.execPath, [FLURM, 'config', '--config', configFile], { env: { ...process.env, FLURM_SPOOL: path.join(path.dirname(configFile), 'no-spool') } });
  return r.stdout;
}

/** One numeric setting from effectiveConfig's text, e.g. configNumber(text, 'max_idle_checks_per_second'). */
export function configNumber(text, key) {
  const m = new RegExp(`^${key}\\s*=\\s*([0-9.]+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

export async function getJson(url, timeoutMs = 5000) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return res.json();
}

export async function health(hub) {
  return getJson(`${hub.url}/healthz`);
}

/** Poll `fn` every `everyMs` until it returns a truthy value; throws after timeoutMs. */
export async function waitUntil(fn, { timeoutMs = 30_000, everyMs = 25, what = 'condition' } = {}) {
  const t0 = nowMs();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (nowMs() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---- sink -------------------------------------------------------------------------------------

/**
 * A JSON-webhook destination: records each POST's arrival time (when its body has been read) and
 * answers 200 {"ok":true}. `url(path)` gives json://127.0.0.1:PORT/path for hub routes and
 * `httpUrl(path)` the plain http:// form (for the legacy scanner's curl).
 */
export async function startSink() {
  const received = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const t = nowMs();
      const raw = Buffer.concat(chunks).toString('utf8');
      const r = { t, method: req.method, path: req.url, headers: req.headers, raw };
      received.push(r);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
      for (const w of [...waiters]) {
        if (w.pred(r)) {
          waiters.splice(waiters.indexOf(w), 1);
          clearTimeout(w.timer);
          w.resolve(r);
        }
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    port,
    received,
    url: (p = '/hook') => `json://127.0.0.1:${port}${p}`,
    httpUrl: (p = '/hook') => `http://127.0.0.1:${port}${p}`,
    /** The first request (already received or still to come) matching pred, or null after timeoutMs. */
    waitFor(pred, timeoutMs = 10_000) {
      const hit = received.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve) => {
        const w = { pred, resolve, timer: setTimeout(() => (waiters.splice(waiters.indexOf(w), 1), resolve(null)), timeoutMs) };
        waiters.push(w);
      });
    },
    close: () => new Promise((r) => (server.closeAllConnections?.(), server.close(() => r()))),
  };
}

// ---- processes --------------------------------------------------------------------------------

/** Run a command to completion; resolves { code, signal, ms, stdout, stderr }. */
export function runProc(file, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, ms: Number(process.hrtime.bigint() - t0) / 1e6, stdout, stderr, pid: child.pid }));
  });
}

/** CPU seconds of a process (utime+stime, plus cutime+cstime of its reaped children). */
export function cpuSeconds(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // fields 14-17
  return ticks / CLK_TCK;
}

/** VmRSS and VmHWM of a process, in MB (MiB). */
export function memMB(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** CPU use of `pid` over `seconds` of wall time, as a percentage of one core. */
export async function cpuOver(pid, seconds) {
  const c0 = cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const c1 = cpuSeconds(pid);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return { pct: ((c1 - c0) / wall) * 100, cpu: c1 - c0, wall };
}

// ---- spool events ------------------------------------------------------------------------------

const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A valid, unique ULID: 10 chars of time, 16 of `n` (a counter) plus a per-run salt. */
export function ulid(ms, n, salt = 0) {
  let t = '';
  for (let i = 0, v = ms; i < 10; i++, v = Math.floor(v / 32)) t = B32[v % 32] + t;
  let r = '';
  let v = BigInt(n) + (BigInt(salt) << 40n);
  for (let i = 0; i < 16; i++, v >>= 5n) r = B32[Number(v & 31n)] + r;
  return t + r;
}

/** A start/end pair for a finished job, as two JSON lines (~300 bytes each with `pad`). */
export function jobLines({ ms, n, salt = 0, user, host, title, pad = 0 }) {
  const id = ulid(ms, n, salt);
  const start = { v: 1, id, ts: new Date(ms).toISOString(), user, host, src: 'node', type: 'start', pid: 10_000 + (n % 50_000), pid_start: String(1_000_000 + n), cwd: `/home/${user}/projects/experiment-${n % 97}`, title, cmd: `python train.py --config configs/run-${n}.yaml --seed ${n % 13}`, detached: false };
  const end = { v: 1, id, ts: new Date(ms + 61_000).toISOString(), user, host, src: 'node', type: 'end', exit: n % 10 === 0 ? 1 : 0, signal: null, wall_seconds: 61.0, cpu_seconds: 58.2, peak_rss_bytes: 1_234_567_890, tail: ['epoch 10/10 done', `val acc 0.9${n % 10} loss 0.1${n % 7}`], cmd: start.cmd };
  if (pad > 0) {
    const s = JSON.stringify(start);
    if (s.length < pad) start.cwd += '/' + 'x'.repeat(pad - s.length - 2);
    const e = JSON.stringify(end);
    if (e.length < pad) end.tail.push('-'.repeat(pad - e.length - 4));
  }
  return JSON.stringify(start) + '\n' + JSON.stringify(end) + '\n';
}

// ---- stats and report ------------------------------------------------------------------------

/** Percentile by linear interpolation between closest ranks (p in 0..100). */
export function pct(values, p) {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const idx = (p / 100) * (v.length - 1);
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return v[lo] + (v[hi] - v[lo]) * (idx - lo);
}
export const median = (v) => pct(v, 50);

export function fmt(x, digits = 2) {
  if (!Number.isFinite(x)) return String(x);
  return x.toFixed(digits);
}

/**
 * Collects figures for one script: `check(...)` prints "label: value (target …) OK|MISSED",
 * `info(...)` prints a figure with no target; `save()` writes bench/results/<name>.json for
 * run-all's summary and the legacy side-by-side.
 */
export function report(name) {
  const figures = [];
  const started = new Date();
  return {
    figures,
    header(title) {
      const [l1] = os.loadavg();
      console.log(`\n== ${title} ==`);
      if (process.env.BENCH_FLURM) console.log(`   CLI under test: ${FLURM}`);
      console.log(`   ${started.toISOString()}  node ${process.version}  ${os.cpus().length} cores  load average ${l1.toFixed(2)}${l1 > os.cpus().length * 0.5 ? '  (busy machine: figures are noisy)' : ''}`);
    },
    /** targets: [{ key, op: '<=' | '>=', limit, unit }] ; values: { key: number } */
    check(label, text, values, targets, extra = {}) {
      const ok = targets.every((t) => (t.op === '>=' ? values[t.key] >= t.limit : values[t.key] <= t.limit));
      const tgt = targets.map((t) => `${t.key} ${t.op} ${t.limit}${t.unit ? ' ' + t.unit : ''}`).join(', ');
      console.log(`${label}: ${text}   (target ${tgt})  ${ok ? 'OK' : 'MISSED'}`);
      figures.push({ label, text, values, target: tgt, ok, ...extra });
      return ok;
    },
    info(label, text, values = {}, extra = {}) {
      console.log(`${label}: ${text}`);
      figures.push({ label, text, values, target: null, ok: null, ...extra });
    },
    save(meta = {}) {
      fs.mkdirSync(RESULTS_DIR, { recursive: true });
      const out = { name, date: started.toISOString(), node: process.version, cores: os.cpus().length, loadavg: os.loadavg(), ...meta, figures };
      // Another build under test (BENCH_FLURM) does not overwrite this checkout's figures.
      const file = process.env.BENCH_FLURM ? `${name}.alt.json` : `${name}.json`;
      fs.writeFileSync(path.join(RESULTS_DIR, file), JSON.stringify({ ...out, flurm: FLURM }, null, 2) + '\n');
      return out;
    },
  };
}

export function loadResults(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, `${name}.json`), 'utf8'));
  } catch {
    return null;
  }
}

/** Run `main`, always exiting 0 unless the bench itself broke (exit 1 with the error). */
export function runMain(main) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(`bench failed: ${err?.stack ?? err}`);
      process.exit(1);
    },
  );
}

// ---- synthetic nodes, local servers ---------------------------------------------------------

/** A small deterministic PRNG, so every run measures the same cluster. */
export function prng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
export const SYNTHETIC_USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'oscar'];
export const SYNTHETIC_CMDS = [
  'python train.py --config configs/resnet50.yaml --lr 0.1 --batch-size 256 --epochs 90 --data /scratch/imagenet',
  'torchrun --nproc_per_node 4 pretrain.py --model vit-l --precision bf16 --grad-accum 8',
  'Rscript fit_models.R --chains 8 --iter 20000 --seed 42',
  'julia --threads 16 simulate.jl --steps 1000000',
  '/usr/lib/jvm/java-17-openjdk/bin/java -Xmx64g -jar gatk.jar HaplotypeCaller -I sample.bam',
  'python -m ipykernel_launcher -f /home/u/.local/share/jupyter/runtime/kernel-8c1f.json',
];

/**
 * Node i's agent snapshot, of a realistic size: 64 cores, 512 GiB, 200 busy processes (the
 * agent's cap), 1,000 live pids, 8 GPUs (some held, one or two compute processes each); fresh.
 */
export function syntheticSnapshot(i, rand) {
  const host = `node${String(i).padStart(3, '0')}`;
  const cpus = 64;
  const load = 64 * rand();
  const total = 512 * GiB;
  const U = SYNTHETIC_USERS;
  const busy = Array.from({ length: 200 }, (_, k) => {
    const rss = Math.floor((0.05 + 8 * rand()) * GiB);
    const user = U[Math.floor(rand() * U.length)];
    const pid = 10_000 + i * 1000 + k;
    return { pid, start: String(5_000_000 + pid), user, uid: 1000 + U.indexOf(user), cpu_pct: Math.round(rand() * 1600 * 10) / 10, rss_bytes: rss, mem_pct: Math.round((rss / total) * 1000) / 10, elapsed_seconds: Math.floor(rand() * 86_400 * 3), cmd: SYNTHETIC_CMDS[k % SYNTHETIC_CMDS.length] };
  });
  const gpus = Array.from({ length: 8 }, (_, g) => {
    const held = rand() < 0.6;
    const procs = held ? Array.from({ length: 1 + Math.floor(rand() * 2) }, (_, p) => ({ pid: 10_000 + i * 1000 + g * 2 + p, user: U[Math.floor(rand() * U.length)], uid: 1001, mem_bytes: Math.floor((2 + 30 * rand()) * GiB), name: 'python' })) : [];
    const used = held ? procs.reduce((s, p) => s + p.mem_bytes, 0) + 500 * MiB : 4 * MiB;
    return { index: g, uuid: `GPU-${i}-${g}-0000-0000-000000000000`, name: 'NVIDIA A100-SXM4-80GB', util_pct: held ? Math.round(rand() * 100) : 0, mem_used_bytes: used, mem_total_bytes: 80 * GiB, temp_c: 30 + Math.round(rand() * 45), power_w: 60 + Math.round(rand() * 300), procs };
  });
  return {
    v: 1, host, seq: 5000 + i, ts: new Date().toISOString(), interval_seconds: 15,
    agent: { version: '0.1.0', pid: 999, user: 'labadmin' }, uptime_seconds: 40 * 86_400,
    cpus, load: [load * 1.05, load, load * 0.95], cpu_busy_pct: Math.min(100, (load / cpus) * 100),
    mem: { total_bytes: total, available_bytes: Math.floor(total * (0.1 + 0.85 * rand())), swap_total_bytes: 16 * GiB, swap_free_bytes: 15 * GiB },
    pids: Array.from({ length: 1000 }, (_, k) => [1 + k * 7 + i, String(24 + k * 13)]), pids_visible: 'all', busy, gpus,
    collectors: { load: { ok: true, seconds: 0.001 }, mem: { ok: true, seconds: 0.001 }, procs: { ok: true, seconds: 0.08 }, gpu: { ok: true, seconds: 0.3 } },
  };
}

/**
 * A real hub holding `nodes` synthetic nodes (syntheticSnapshot), every one fresh: the snapshots
 * are written to its cluster dir twice (a node is fresh once its seq changed). `extra`: more hub
 * config. Returns the hub and the snapshots.
 */
export async function hubWithSyntheticNodes(lab, nodes, extra = '[nodes]\npoll_interval_seconds = 0.5\n') {
  const rand = prng(42);
  const snaps = Array.from({ length: nodes }, (_, i) => syntheticSnapshot(i, rand));
  fs.mkdirSync(`${lab.cluster}/nodes`, { recursive: true });
  const write = (bump) => {
    for (const s of snaps) fs.writeFileSync(`${lab.cluster}/nodes/${s.host}.json`, JSON.stringify({ ...s, seq: s.seq + bump }));
  };
  write(0);
  const hub = await startHub(lab, writeHubConfig(lab, { extra }));
  try {
    const listed = async () => (await (await fetch(`${hub.url}/api/v1/nodes?busy=0`)).json()).nodes ?? [];
    await waitUntil(async () => (await listed()).length === nodes, { what: 'the hub to read every snapshot' });
    write(1);
    await waitUntil(async () => (await listed()).filter((n) => n.state === 'fresh').length === nodes, { what: 'every node fresh' });
  } catch (err) {
    await hub.stop();
    throw err;
  }
  return { hub, snaps };
}

/**
 * Import a TypeScript test module (a local protocol server, test/support/*-server.ts): plain Node
 * 20 cannot, so it is bundled with esbuild into results/ (where its packages resolve) and removed.
 */
export async function importTs(relPath) {
  const { build } = await import('esbuild');
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const outfile = path.join(RESULTS_DIR, `.${path.basename(relPath, '.ts')}-${process.pid}.mjs`);
  try {
    await build({ entryPoints: [path.join(ROOT, relPath)], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'error' });
    return await import(pathToFileURL(outfile).href);
  } finally {
    fs.rmSync(outfile, { force: true });
  }
}

/** Hubs (or any `{ child }`) added here are SIGKILLed when the script exits, whatever happens. */
export function killedOnExit() {
  const procs = new Set();
  process.on('exit', () => {
    for (const p of procs) {
      try {
        p.child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
  return procs;
}

/** p50 / p95 / max of latencies (ms), and how many. */
export const latencyStats = (ms) => ({ p50_ms: median(ms), p95_ms: pct(ms, 95), max_ms: Math.max(...ms), n: ms.length });
/** "p50 4.99 ms, p95 9.08 ms, max 13.94 ms (n=200)" */
export const msLine = (s) => `p50 ${fmt(s.p50_ms)} ms, p95 ${fmt(s.p95_ms)} ms, max ${fmt(s.max_ms)} ms (n=${s.n})`;
