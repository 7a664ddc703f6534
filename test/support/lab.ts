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
