// Test harness: a throw-away "lab" on local disk (spools, cluster dir, index) and the real
// `flurm` binary from dist/ run as real processes — the hub included.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const FLURM = path.resolve(import.meta.dirname, '../../dist/cli/flurm.cjs');

export interface Lab {
  root: string;
  cluster: string;
  index: string;
  /** A home dir with its spool at <home>/.flurm. */
  home(name: string, uid?: number): { home: string; spool: string; env: NodeJS.ProcessEnv };
  writeConfig(toml: string): string;
  /**
   * Write a hub config for this lab (its index, cluster dir and homes; HTTP on a free port; fast
   * polling unless given) with `extra` TOML appended (routes, delivery...). Returns its path.
   */
  /** `slurm`: the body of the [slurm] table (default `enabled = false`, so tests see no SLURM a machine may have). */
  hubConfig(opts?: { pollSeconds?: number; rediscoverSeconds?: number; extra?: string; slurm?: string }): string;
  cleanup(): void;
}

export function makeLab(prefix = 'flurm-lab-'): Lab {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(root, 0o755);
  const cluster = path.join(root, 'cluster');
  fs.mkdirSync(cluster, { recursive: true });
  fs.mkdirSync(path.join(root, 'home'), { recursive: true });
  return {
    root,
    cluster,
    index: path.join(root, 'hubstate', 'index.db'),
    home(name, uid) {
      const home = path.join(root, 'home', name);
      const spool = path.join(home, '.flurm');
      fs.mkdirSync(path.join(spool, 'events'), { recursive: true });
      if (uid !== undefined) {
        for (const p of [home, spool, path.join(spool, 'events')]) fs.chownSync(p, uid, uid);
      }
      return { home, spool, env: { ...process.env, HOME: home, FLURM_SPOOL: spool, FLURM_CLUSTER: cluster, FLURM_HOST: 'node1' } };
    },
    writeConfig(toml) {
      const f = path.join(root, 'hub.toml');
      fs.writeFileSync(f, toml);
      return f;
    },
    hubConfig(opts = {}) {
      return this.writeConfig(`
index = "${this.index}"
cluster_dir = "${cluster}"
[spools]
homes = ["${root}/home/*"]
[http]
port = 0
[ingest]
poll_interval_seconds = ${opts.pollSeconds ?? 0.2}
rediscover_interval_seconds = ${opts.rediscoverSeconds ?? 1}
[slurm]
${opts.slurm ?? 'enabled = false'}
${opts.extra ?? ''}`);
    },
    cleanup() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A [[routes]] TOML table sending `on` events to `to`. */
export function route(on: string, ...to: string[]): string {
  return `[[routes]]\non = [${on.split(',').map((o) => JSON.stringify(o.trim())).join(', ')}]\nto = [${to.map((t) => JSON.stringify(t)).join(', ')}]\n`;
}

export interface Proc {
  child: ChildProcess;
  out: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  text(): string;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<string>;
}

export function startFlurm(args: string[], opts: SpawnOptions & { env: NodeJS.ProcessEnv }): Proc {
  const child = spawn(process.execPath, [FLURM, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const out: string[] = [];
  const onData = (d: Buffer) => out.push(d.toString());
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const text = () => out.join('');
  return {
    child,
    out,
    exited,
    text,
    async waitForOutput(re, timeoutMs = 15_000) {
      const t0 = Date.now();
      while (Date.now() - t0 < timeoutMs) {
        const m = text().match(re);
        if (m) return m[0];
        await sleep(25);
      }
      throw new Error(`timed out waiting for ${re} in output:\n${text()}`);
    },
  };
}

/** Run flurm to completion. */
/** Kill (SIGKILL) and reap every process still running in `procs`, emptying it: an afterEach's first line. */
export async function killAll(procs: Proc[]): Promise<void> {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
}

export async function runFlurm(args: string[], opts: SpawnOptions & { env: NodeJS.ProcessEnv; input?: string }): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [FLURM, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end(opts.input ?? '');
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (c, s) => resolve({ code: c, signal: s })));
  return { code, signal, stdout, stderr };
}

export interface HubProc extends Proc {
  url: string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

/** Start `flurm hub --config FILE` and wait until it serves /healthz. */
export async function startHub(configFile: string, env: NodeJS.ProcessEnv = process.env): Promise<HubProc> {
  const p = startFlurm(['hub', '--config', configFile], { env: { ...env, FLURM_LOG_LEVEL: 'debug' } });
  const t0 = Date.now();
  let url: string | null = null;
  while (Date.now() - t0 < 20_000) {
    const m = p.text().match(/hub running url=(\S+)/);
    if (m) {
      url = m[1]!;
      break;
    }
    if (p.child.exitCode !== null) throw new Error(`hub exited early:\n${p.text()}`);
    await sleep(25);
  }
  if (!url) throw new Error(`hub did not start:\n${p.text()}`);
  return {
    ...p,
    url,
    async stop() {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    },
    async kill9() {
      p.child.kill('SIGKILL');
      await p.exited;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitUntil<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

// ---- what the hub says about itself (GET /healthz, /api/v1/jobs), for "nothing else came" ----

/** The parts of GET /healthz that tests read. */
export interface HubHealth {
  ok: boolean;
  role: 'active' | 'standby';
  host: string;
  ingest: { spools: number; files: number; refused: number; events: number; invalid: number; ticks: number };
  /** Outbox rows by status: pending (queued or being sent), sent, failed (given up). */
  outbox: { pending: number; sent: number; failed: number };
  slurm: {
    enabled: boolean;
    watching?: number;
    consecutive_failures?: number;
    commands?: Record<'squeue' | 'sacct' | 'scontrol' | 'sinfo', { calls: number; failures: number }>;
  };
}

/** A job as GET /api/v1/jobs lists it. */
export interface HubJob {
  id: string;
  user: string;
  host: string;
  state: 'pending' | 'running' | 'succeeded' | 'failed' | 'unknown' | 'vanished';
  title: string | null;
  endTs: string | null;
  src: string | null;
  slurm?: { job_id: string; final?: Record<string, unknown> } | null;
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const hubHealth = (hub: { url: string }): Promise<HubHealth> => getJson<HubHealth>(`${hub.url}/healthz`);

export async function hubJobs(hub: { url: string }, limit = 200): Promise<HubJob[]> {
  return (await getJson<{ jobs: HubJob[] }>(`${hub.url}/api/v1/jobs?limit=${limit}`)).jobs;
}

/** True when the index has each of these titles as an ended job (an end recorded, not running). */
export function jobsEnded(jobs: HubJob[], titles: readonly string[]): boolean {
  return titles.every((t) => jobs.some((j) => j.title === t && j.endTs !== null && j.state !== 'running' && j.state !== 'pending'));
}

/**
 * Wait until the hub has nothing left to do for what it has seen, so that "nothing else arrived"
 * is a fact rather than a guess about timing:
 *   1. the jobs titled `ended` are ended in its index (the end event and its outbox rows are
 *      committed in one transaction, so every message for them is queued by then), and `until`
 *      (any other condition on /healthz) holds;
 *   2. no outbox row is pending: every queued message has had its answer (sent, or given up);
 *   3. the ingest loop then completes `passes` more ticks and the outbox is unchanged (nothing
 *      re-read, nothing new queued, still nothing pending).
 * Resolves with the last /healthz answer.
 */
export async function waitForQuiet(
  hub: { url: string },
  opts: { ended?: readonly string[]; until?: (h: HubHealth) => boolean | Promise<boolean>; passes?: number; timeoutMs?: number; what?: string } = {},
): Promise<HubHealth> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const passes = opts.passes ?? 2;
  const t0 = Date.now();
  const total = (h: HubHealth) => h.outbox.pending + h.outbox.sent + h.outbox.failed;
  let last: HubHealth | undefined;
  let why = 'first answer';
  for (;;) {
    const h = (last = await hubHealth(hub));
    const ready = (opts.ended === undefined || jobsEnded(await hubJobs(hub), opts.ended)) && (!opts.until || (await opts.until(h)));
    if (!ready) why = `not ready (ended: ${opts.ended?.join(', ') ?? '-'})`;
    else if (h.outbox.pending > 0) why = `outbox ${JSON.stringify(h.outbox)}`;
    else {
      let after = h;
      while (after.ingest.ticks < h.ingest.ticks + passes && Date.now() - t0 < timeoutMs) {
        await sleep(25);
        after = last = await hubHealth(hub);
      }
      if (after.ingest.ticks >= h.ingest.ticks + passes && after.outbox.pending === 0 && total(after) === total(h)) return after;
      why = `outbox changed during ${passes} ingest passes: ${JSON.stringify(h.outbox)} → ${JSON.stringify(after.outbox)}`;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for the hub to be quiet${opts.what ? ` (${opts.what})` : ''}: ${why}; last /healthz: ${JSON.stringify(last)}`);
    await sleep(25);
  }
}

const NVIDIA_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/nvidia-smi');

/** A directory with an `nvidia-smi` that prints the real 8 × V100 capture (and no compute apps); put it first on PATH. */
export function fakeNvidiaSmi(root: string): string {
  const dir = path.join(root, 'gpu-bin');
  fs.mkdirSync(dir, { recursive: true });
  const script = `#!/bin/sh
case "$*" in
  *--query-compute-apps*) echo "gpu_uuid, pid, process_name, used_gpu_memory [MiB]" ;;
  *) cat "${NVIDIA_FIXTURES}/v100x8.query-gpu.csv"; echo ;;
esac
`;
  fs.writeFileSync(path.join(dir, 'nvidia-smi'), script, { mode: 0o755 });
  return dir;
}
