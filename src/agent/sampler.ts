// Builds one NodeSnapshot (agent/snapshot.ts) from the collectors. The sampler keeps state between
// calls (previous /proc/stat and per-process CPU ticks), so CPU figures are rates since the last
// sample(): the first sample of a sampler has cpu_busy_pct null and every cpu_pct null. `seq` is
// left at 0: the writer (agent/writer.ts) numbers what it writes.
import { userName as currentUserName, hostName } from '../lib/host.js';
import { userNameOf as defaultUserNameOf } from '../lib/users.js';
import { collectCpus } from '../collectors/cpus.js';
import { CpuCollector } from '../collectors/cpu.js';
import { collectGpus } from '../collectors/gpu.js';
import { collectLoadavg, type Loadavg } from '../collectors/loadavg.js';
import { collectMeminfo, type Meminfo } from '../collectors/meminfo.js';
import { ProcessCollector, type ProcessesOptions, type ProcessesSample } from '../collectors/processes.js';
import { collectUptime } from '../collectors/uptime.js';
import { CollectorRunner } from './runner.js';
import { SNAPSHOT_VERSION, type NodeSnapshot, type SnapshotGpu, type SnapshotProcess } from '../model/snapshot.js';

export interface SamplerOptions {
  /** flurm's version, reported as agent.version. */
  version: string;
  procRoot?: string;
  nvidiaSmi?: string;
  /** Host name; default hostName() (FLURM_HOST, else the short host name). */
  host?: string;
  busyMinCpuPct?: number;
  busyMinRssBytes?: number;
  pageSizeBytes?: number;
  clkTck?: number;
  euid?: number;
  availableParallelism?: () => number;
  gpuTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  userNameOf?: (uid: number) => Promise<string>;
}

const EMPTY_PROCESSES: ProcessesSample = { pids: [], pids_truncated: false, pids_visible: 'all', busy: [], seen: 0, denied: 0 };

export class Sampler {
  private readonly cpu: CpuCollector;
  private readonly processes: ProcessCollector;
  /** The host name the snapshots carry. */
  readonly hostName: string;
  private readonly agentUser: string;

  // The collectors' option objects: procRoot is refreshed from `opts` at each sample, so a test
  // can move the sampler from a t0 fixture to a t1 one.
  private readonly cpuOpts: { procRoot?: string } = {};
  private readonly procOpts: ProcessesOptions;

  constructor(private readonly opts: SamplerOptions) {
    this.cpu = new CpuCollector(this.cpuOpts);
    this.procOpts = {
      busyMinCpuPct: opts.busyMinCpuPct,
      busyMinRssBytes: opts.busyMinRssBytes,
      pageSizeBytes: opts.pageSizeBytes,
      clkTck: opts.clkTck,
      euid: opts.euid,
    };
    this.processes = new ProcessCollector(this.procOpts);
    this.hostName = (opts.host ?? hostName(opts.env)).slice(0, 253);
    this.agentUser = currentUserName(opts.env).slice(0, 64);
  }

  /** One snapshot (seq 0). Never throws: a failing collector is reported in `collectors`. */
  async sample(intervalSeconds: number): Promise<NodeSnapshot> {
    const o = this.opts;
    const run = new CollectorRunner();
    const procRoot = o.procRoot;
    this.cpuOpts.procRoot = procRoot;
    this.procOpts.procRoot = procRoot;
    // nvidia-smi runs in child processes while /proc is read here.
    const gpusP = run.run<SnapshotGpu[] | null>('gpu', null, () =>
      collectGpus({ procRoot, nvidiaSmi: o.nvidiaSmi, timeoutMs: o.gpuTimeoutMs, env: o.env, userNameOf: o.userNameOf }),
    );
    const uptime = await run.run('uptime', 0, () => collectUptime({ procRoot }));
    const cpus = await run.run('cpus', 1, () => collectCpus({ availableParallelism: o.availableParallelism }));
    const loadavg = await run.run<Loadavg | null>('loadavg', null, () => collectLoadavg({ procRoot }));
    const cpuBusy = await run.run<number | null>('cpu', null, () => this.cpu.collect());
    const mem = await run.run<Meminfo>('meminfo', { total_bytes: 0, available_bytes: 0, swap_total_bytes: 0, swap_free_bytes: 0 }, () =>
      collectMeminfo({ procRoot }),
    );
    const procs = await run.run('processes', EMPTY_PROCESSES, () => this.processes.collect());
    const busy = await this.namedBusy(procs, mem.total_bytes);
    const gpus = await gpusP;
    return {
      v: SNAPSHOT_VERSION,
      host: this.hostName,
      seq: 0,
      ts: new Date().toISOString(),
      interval_seconds: intervalSeconds,
      agent: { version: o.version.slice(0, 64), pid: process.pid, user: this.agentUser },
      uptime_seconds: uptime,
      cpus,
      load: loadavg?.load ?? [0, 0, 0],
      cpu_busy_pct: cpuBusy === null ? null : Math.round(cpuBusy * 10) / 10,
      mem,
      pids: procs.pids,
      pids_visible: procs.pids_visible,
      ...(procs.pids_truncated ? { pids_truncated: true } : {}),
      busy,
      gpus,
      collectors: run.statuses,
    };
  }

  private async namedBusy(procs: ProcessesSample, memTotalBytes: number): Promise<SnapshotProcess[]> {
    const nameOf = this.opts.userNameOf ?? defaultUserNameOf;
    const out: SnapshotProcess[] = [];
    for (const p of procs.busy) {
      let user: string;
      try {
        user = (await nameOf(p.uid)).slice(0, 64);
      } catch {
        user = String(p.uid);
      }
      out.push({
        pid: p.pid,
        start: p.start,
        user,
        uid: p.uid,
        cpu_pct: p.cpu_pct,
        rss_bytes: p.rss_bytes,
        mem_pct: memTotalBytes > 0 ? Math.round((p.rss_bytes / memTotalBytes) * 1000) / 10 : 0,
        elapsed_seconds: p.elapsed_seconds,
        cmd: p.cmd,
      });
    }
    return out;
  }
}
