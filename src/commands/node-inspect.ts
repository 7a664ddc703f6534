// `inspect NODE`: one node in full — state and data age, load over cores, CPU, memory and swap,
// uptime, since when it has been idle, its flurm jobs with owners and run times, its GPUs (util,
// memory, temperature, power) with their holders, and its busy processes as the table. Run times
// and "idle for" are measured on the hub's clock (deps.now: the answer's `generated`); times are
// shown in the reader's zone (deps.timeZone, lib/time.ts). Pure.
import { formatBytes, formatDuration, plural, truncate } from '../lib/format.js';
import { formatLocalTime } from '../lib/time.js';
import type { Message, MessageField } from '../model/message.js';
import { jobName } from '../model/job-name.js';
import type { NodeView } from '../model/node-view.js';
import {
  nodeStateCell,
  byCpuDesc,
  formatCpuPct,
  findNode,
  formatAge,
  formatBytesPair,
  formatCmd,
  formatLoad,
  formatPct,
  freeGpuIndices,
  gpuIsFree,
  memUsedBytes,
  runningJobs,
  type NodeCommandDeps,
} from '../model/node-facts.js';

export interface InspectArgs {
  node: string;
  /** The snapshot was just asked of the node over ssh (`inspect --live`). */
  live?: boolean;
  /** False when no hub answered: the node's jobs are then unknown, not "none". Default true. */
  jobs_known?: boolean;
}

/** At most this many jobs and GPU holders are listed in a field. */
const LIST_MAX = 20;

function stateText(n: NodeView, live: boolean): string {
  if (live) return 'live (asked over ssh just now)';
  if (n.state === 'waiting') return 'waiting (no hub has judged its freshness)';
  return `${n.state}, data ${formatAge(n.age_seconds)} old`;
}

function sinceText(iso: string, nowMs: number): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? formatDuration(Math.max(0, (nowMs - t) / 1000)) : '?';
}

function listed(lines: string[], what: string): string {
  if (lines.length <= LIST_MAX) return lines.join('\n');
  return [...lines.slice(0, LIST_MAX), `… and ${lines.length - LIST_MAX} more ${what}`].join('\n');
}

export function inspect(nodes: readonly NodeView[], args: InspectArgs, deps: NodeCommandDeps = {}): Message {
  const n = findNode(nodes, args.node);
  const nowMs = (deps.now ?? Date.now)();
  const at = (iso: string) => formatLocalTime(iso, { timeZone: deps.timeZone });
  const s = n.snapshot;
  const live = args.live ?? false;
  const gpus = [...(s.gpus ?? [])].sort((a, b) => a.index - b.index);
  const free = freeGpuIndices(n);
  const jobs = runningJobs(n);

  const idle =
    n.idle_since !== null
      ? `idle for ${sinceText(n.idle_since, nowMs)} (since ${at(n.idle_since)})`
      : s.busy.length > 0
        ? 'busy now'
        : 'unknown';

  const fields: MessageField[] = [
    { name: 'State', value: stateText(n, live), inline: true },
    { name: 'Load', value: `${s.load.map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min) on ${s.cpus} cores`, inline: true },
    { name: 'CPU', value: `${formatPct(s.cpu_busy_pct)} busy`, inline: true },
    { name: 'Memory', value: `${formatBytesPair(memUsedBytes(n), s.mem.total_bytes)} used, ${formatBytes(s.mem.available_bytes)} available`, inline: true },
    {
      name: 'Swap',
      value: s.mem.swap_total_bytes > 0 ? `${formatBytesPair(s.mem.swap_total_bytes - s.mem.swap_free_bytes, s.mem.swap_total_bytes)} used` : 'none',
      inline: true,
    },
    { name: 'Uptime', value: formatDuration(s.uptime_seconds), inline: true },
    { name: 'Idle', value: idle, inline: true },
  ];

  const jobLines = jobs.map((j) => {
    const ran = j.startTs ? `running ${sinceText(j.startTs, nowMs)}` : 'running';
    const pid = j.pid ? `, pid ${j.pid}` : '';
    return `${jobName(j)} — ${j.user}, ${ran}${pid} (job ${j.id.slice(-8)})`;
  });
  fields.push({
    name: `flurm jobs (${args.jobs_known === false ? '?' : jobs.length})`,
    value: args.jobs_known === false ? 'unknown: no hub answered' : jobLines.length ? listed(jobLines, 'jobs') : 'none',
  });

  if (s.gpus === null) {
    const why = s.collectors.gpu?.error;
    fields.push({ name: 'GPUs', value: why ? `none seen (${truncate(why, 200)})` : 'none' });
  } else if (gpus.length > 0) {
    const gpuLines = gpus.map((g) => {
      const mem = g.mem_used_bytes !== null && g.mem_total_bytes !== null ? formatBytesPair(g.mem_used_bytes, g.mem_total_bytes) : '?';
      const facts = [formatPct(g.util_pct), mem, g.temp_c === null ? null : `${Math.round(g.temp_c)} °C`, g.power_w === null ? null : `${Math.round(g.power_w)} W`].filter(Boolean);
      const holders = g.procs.map((p) => `${p.user ?? '(hidden)'} (pid ${p.pid}${p.mem_bytes !== null ? `, ${formatBytes(p.mem_bytes)}` : ''})`);
      const who = gpuIsFree(g) ? 'free' : holders.length ? truncate(holders.join(', '), 300) : 'in use (no visible process)';
      return `${g.index} ${g.name}: ${facts.join(', ')} — ${who}`;
    });
    fields.push({ name: `GPUs (${free.length} of ${gpus.length} free)`, value: listed(gpuLines, 'GPUs') });
  }

  const failed = Object.entries(s.collectors).filter(([, c]) => !c.ok);
  if (failed.length) fields.push({ name: 'Collectors failing', value: failed.map(([k, c]) => `${k}: ${truncate(c.error ?? 'failed', 200)}`).join('\n') });
  if (n.problem) fields.push({ name: 'Problem', value: `${truncate(n.problem, 300)} — showing the last good snapshot` });
  if (s.pids_visible === 'own') fields.push({ name: 'Note', value: `the agent runs as ${s.agent.user} under hidepid: other users' processes are not visible` });

  const procs = [...s.busy].sort(byCpuDesc);
  const summary = [
    `load ${formatLoad(s.load[1], s.cpus)}`,
    `CPU ${formatPct(s.cpu_busy_pct)}`,
    `${formatBytes(s.mem.available_bytes)} free`,
    ...(gpus.length ? [`${free.length}/${gpus.length} GPUs free`] : []),
    plural(procs.length, 'busy process', 'busy processes'),
  ].join(' · ');

  return {
    title: `${n.host} — ${live ? 'live' : n.state}`,
    severity: n.state === 'down' || n.state === 'stale' ? 'warning' : 'info',
    titleState: args.live ? 'ok' : nodeStateCell(n.state),
    summary,
    fields,
    ...(procs.length
      ? {
          table: {
            columns: ['USER', 'PID', '%CPU', '%MEM', 'RSS', 'ELAPSED', 'COMMAND'],
            rows: procs.map((p) => [
              p.user,
              String(p.pid),
              formatCpuPct(p.cpu_pct),
              p.mem_pct.toFixed(1),
              formatBytes(p.rss_bytes),
              formatDuration(p.elapsed_seconds),
              formatCmd(p.cmd, 80),
            ]),
          },
        }
      : {}),
    footer: `agent ${s.agent.version} as ${s.agent.user}, every ${formatDuration(s.interval_seconds)} · seq ${s.seq} · written ${at(s.ts)} (node clock)`,
    data: { node: n, live, free_gpus: free, jobs_known: args.jobs_known !== false },
  };
}
