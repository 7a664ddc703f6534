// Active / standby between hubs that share a cluster dir, without locks (flock on NFS is not to be
// trusted) and without comparing clocks: hub.json is the lease. The active hub rewrites it every
// lease/3 with seq + 1. A standby watches seq on its own monotonic clock; when seq has not changed
// for one lease period it claims hub.json (temp + rename: last writer wins), waits a beat, reads
// it back, and is active only if its claim survived. An active hub that finds someone else's
// newer claim steps down at once. Receipts (hub/receipts.ts) make a takeover send nothing twice.
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../lib/logger.js';
import { Ticker } from '../lib/ticker.js';
import { readHubFile, removeHubFile, writeHubFile, type HubFile } from './hub-file.js';

export type Role = 'active' | 'standby';

export interface LeaseOptions {
  clusterDir: string;
  leaseSeconds: number;
  /** This hub's identity in hub.json. */
  me: Pick<HubFile, 'host' | 'pid' | 'url' | 'version'>;
  log: Logger;
  onActive: () => void | Promise<void>;
  onStandby: () => void | Promise<void>;
  mono?: () => number;
  /** Whether a process of this host is alive (a crashed hub on the same host is replaced at once). */
  pidAlive?: (pid: number) => boolean;
}

function defaultPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Lease {
  role: Role = 'standby';
  readonly hubId = crypto.randomBytes(8).toString('hex');
  private seq = 0;
  private readonly ticker: Ticker;
  private stopped = false;
  private readonly mono: () => number;
  private readonly pidAlive: (pid: number) => boolean;
  private readonly started = new Date().toISOString();
  /** What the standby last saw in hub.json, and when it changed (monotonic ms). */
  private seen: { id: string; seq: number; changedMono: number } | null = null;
  private claiming = false;

  constructor(private readonly o: LeaseOptions) {
    this.mono = o.mono ?? (() => performance.now());
    this.pidAlive = o.pidAlive ?? defaultPidAlive;
    // tick() reports its own failures; onError only catches what escapes it.
    this.ticker = new Ticker({
      run: () => this.tick(),
      intervalMs: this.beatMs,
      onError: (err) => this.o.log.error('lease tick failed; will retry', { error: (err as Error).message }),
      unref: true,
    });
  }

  private get beatMs(): number {
    return (this.o.leaseSeconds * 1000) / 3;
  }

  /** Decide the first role (claiming at once when nobody holds the lease), then keep ticking. */
  async start(): Promise<Role> {
    const h = readHubFile(this.o.clusterDir);
    if (!h || this.holderIsDeadHere(h)) {
      if (h) this.o.log.info('hub.json names a hub of this host that is no longer running; taking over', { pid: h.pid });
      this.claim(h?.seq ?? 0);
      await sleep(Math.min(250, this.beatMs));
      await this.confirm();
    } else {
      this.seen = { id: idOf(h), seq: h.seq, changedMono: this.mono() };
      this.o.log.info('another hub holds the lease; standing by', { active_host: h.host, active_url: h.url, lease_seconds: this.o.leaseSeconds });
      await this.o.onStandby();
    }
    if (!this.stopped) this.ticker.start(this.beatMs);
    return this.role;
  }

  private holderIsDeadHere(h: HubFile): boolean {
    return h.host === this.o.me.host && h.pid !== process.pid && !this.pidAlive(h.pid);
  }

  private write(seq: number): void {
    this.seq = seq;
    writeHubFile(this.o.clusterDir, {
      v: 1, host: this.o.me.host, pid: this.o.me.pid, url: this.o.me.url, started: this.started, seq,
      version: this.o.me.version, hub_id: this.hubId, lease_seconds: this.o.leaseSeconds,
    });
  }

  private claim(fromSeq: number): void {
    this.claiming = true;
    try {
      this.write(fromSeq + 1);
    } catch (err) {
      this.claiming = false;
      this.o.log.once('lease-write', 'warn', 'cannot write hub.json; staying standby', { error: (err as Error).message });
    }
  }

  private async confirm(): Promise<void> {
    if (!this.claiming) return;
    this.claiming = false;
    const h = readHubFile(this.o.clusterDir);
    if (h && h.hub_id === this.hubId) {
      await this.become('active');
    } else {
      if (h) this.seen = { id: idOf(h), seq: h.seq, changedMono: this.mono() };
      this.o.log.info('another hub claimed the lease at the same time; standing by', { active_host: h?.host });
      await this.become('standby');
    }
  }

  private async become(role: Role): Promise<void> {
    if (this.role === role && role === 'standby') return;
    const was = this.role;
    this.role = role;
    if (role === 'active') {
      if (was !== 'active') this.o.log.info('this hub is active (holds the lease)', { url: this.o.me.url });
      await this.o.onActive();
    } else {
      this.o.log.warn('this hub is now standby', {});
      await this.o.onStandby();
    }
  }

  async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.claiming) {
        await this.confirm();
        return;
      }
      const h = readHubFile(this.o.clusterDir);
      if (this.role === 'active') {
        if (h && h.hub_id !== this.hubId && h.seq >= this.seq) {
          this.o.log.warn('another hub took the lease (this one was paused or cut off); stepping down', { active_host: h.host });
          this.seen = { id: idOf(h), seq: h.seq, changedMono: this.mono() };
          await this.become('standby');
          return;
        }
        try {
          this.write(Math.max(this.seq, h?.seq ?? 0) + 1);
        } catch (err) {
          this.o.log.once('lease-write', 'warn', 'cannot write hub.json; `flurm run` will not ring the doorbell (the hub still polls)', { error: (err as Error).message });
        }
        return;
      }
      // Standby.
      if (!h || this.holderIsDeadHere(h)) {
        this.claim(h?.seq ?? this.seen?.seq ?? 0);
        return;
      }
      const id = idOf(h);
      if (!this.seen || this.seen.id !== id || this.seen.seq !== h.seq) {
        this.seen = { id, seq: h.seq, changedMono: this.mono() };
        return;
      }
      if (this.mono() - this.seen.changedMono >= this.o.leaseSeconds * 1000) {
        this.o.log.warn('the active hub stopped renewing its lease; taking over', { active_host: h.host, silent_seconds: Math.round((this.mono() - this.seen.changedMono) / 1000) });
        this.claim(h.seq);
      }
    } catch (err) {
      this.o.log.error('lease tick failed; will retry', { error: (err as Error).message });
    }
  }

  /**
   * Stop ticking and give the lease up (remove hub.json, at once) if this hub holds it; resolves
   * when a beat in progress has ended.
   */
  stop(): Promise<void> {
    this.stopped = true;
    const stopped = this.ticker.stop();
    if (this.role === 'active') removeHubFile(this.o.clusterDir, this.o.me.host, this.o.me.pid);
    return stopped;
  }
}

function idOf(h: HubFile): string {
  return h.hub_id ?? `${h.host}:${h.pid}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
