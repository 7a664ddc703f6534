// Lab alerts about a node's condition: load above N × cores, available memory below X %, GPU
// memory held while the GPU idles. Each condition must hold for its duration before it fires
// (measured on the hub's monotonic clock), clears only past a margin (hysteresis), and is not sent
// again within the cool-down — so a node hovering at the threshold never spams the lab. Node
// down/back and vanished jobs are judged by the node watcher (hub/nodes.ts).
import type { NodeSnapshot } from '../model/snapshot.js';
import type { HubConfig } from '../config/schema.js';
import type { Message } from '../model/message.js';
import { gpuIdleMessage, loadMessage, memoryMessage } from '../messages/alert-message.js';
import type { NodeStore } from '../store/nodes.js';

export interface FiredAlert {
  /** Outbox key base: stable for one episode of one condition. */
  keyBase: string;
  host: string;
  kind: string;
  message: Message;
}

interface Pending {
  sinceMono: number;
  /** Snapshot seq when the condition began: names the episode (same on every hub that saw it). */
  sinceSeq: number;
}

/** Below this much GPU memory a GPU counts as not held (drivers and display take a little). */
const GPU_HELD_MIN_BYTES = 256 * 1024 ** 2;
/** Load clears below this fraction of its threshold; memory clears this many points above. */
const LOAD_CLEAR_FRACTION = 0.8;
const MEMORY_CLEAR_MARGIN_PCT = 5;
const GPU_UTIL_CLEAR_MARGIN_PCT = 5;

interface Condition {
  key: string;
  kind: string;
  /** Trigger condition holds now. */
  on: boolean;
  /** Clear condition holds now (implies !on). */
  clear: boolean;
  durationMs: number;
  message: () => Message;
}

export class AlertRules {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly cfg: HubConfig['alerts'],
    private readonly store: NodeStore,
  ) {}

  private conditions(host: string, snap: NodeSnapshot): Condition[] {
    const c = this.cfg;
    const out: Condition[] = [];
    if (c.load_per_core > 0 && snap.cpus > 0) {
      const limit = c.load_per_core * snap.cpus;
      out.push({
        key: `${host}:load`,
        kind: 'load',
        on: snap.load[0] > limit,
        clear: snap.load[0] < limit * LOAD_CLEAR_FRACTION,
        durationMs: c.load_minutes * 60_000,
        message: () => loadMessage(host, snap, c.load_per_core, c.load_minutes),
      });
    }
    if (c.memory_available_pct > 0 && snap.mem.total_bytes > 0) {
      const pct = (snap.mem.available_bytes / snap.mem.total_bytes) * 100;
      out.push({
        key: `${host}:memory`,
        kind: 'memory',
        on: pct < c.memory_available_pct,
        clear: pct > c.memory_available_pct + MEMORY_CLEAR_MARGIN_PCT,
        durationMs: c.memory_minutes * 60_000,
        message: () => memoryMessage(host, snap, c.memory_available_pct, c.memory_minutes),
      });
    }
    if (c.gpu_idle_minutes > 0) {
      for (const g of snap.gpus ?? []) {
        if (g.util_pct === null) continue;
        const held = (g.mem_used_bytes ?? 0) >= GPU_HELD_MIN_BYTES && g.procs.length > 0;
        out.push({
          key: `${host}:gpu-idle:${g.uuid || `index-${g.index}`}`,
          kind: 'gpu-idle',
          on: held && g.util_pct < c.gpu_idle_util_pct,
          clear: !held || g.util_pct >= c.gpu_idle_util_pct + GPU_UTIL_CLEAR_MARGIN_PCT,
          durationMs: c.gpu_idle_minutes * 60_000,
          message: () => gpuIdleMessage(host, g, c.gpu_idle_minutes, c.gpu_idle_util_pct),
        });
      }
    }
    return out;
  }

  /** Judge one new snapshot of `host`; returns the alerts that fire now. */
  evaluate(host: string, snap: NodeSnapshot, monoMs: number, wallMs: number): FiredAlert[] {
    const fired: FiredAlert[] = [];
    const cooldownMs = this.cfg.cooldown_minutes * 60_000;
    for (const cond of this.conditions(host, snap)) {
      const state = this.store.alert(cond.key) ?? { key: cond.key, host, kind: cond.kind, active: false, fired_ms: null, cleared_ms: null };
      if (state.active) {
        if (cond.clear) {
          this.store.putAlert({ ...state, active: false, cleared_ms: wallMs });
          this.pending.delete(cond.key);
        }
        continue;
      }
      if (!cond.on) {
        this.pending.delete(cond.key);
        continue;
      }
      let p = this.pending.get(cond.key);
      if (!p) {
        p = { sinceMono: monoMs, sinceSeq: snap.seq };
        this.pending.set(cond.key, p);
      }
      if (monoMs - p.sinceMono < cond.durationMs) continue;
      if (state.fired_ms !== null && wallMs - state.fired_ms < cooldownMs) continue;
      this.store.putAlert({ ...state, active: true, fired_ms: wallMs });
      this.pending.delete(cond.key);
      fired.push({ keyBase: `alert:${cond.key}:${p.sinceSeq}`, host, kind: cond.kind, message: cond.message() });
    }
    return fired;
  }

  /** Forget pending conditions of a host (it went down: its last numbers mean nothing now). */
  reset(host: string): void {
    for (const k of this.pending.keys()) if (k.startsWith(`${host}:`)) this.pending.delete(k);
  }
}
