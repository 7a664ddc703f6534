// Node alerts as neutral Messages: node down / back (to the lab), load, low memory and idle-held
// GPU memory (to the lab), and "the node stopped reporting while your job was running" (to the
// job's owner). The hub decides when; these only say what, the same on every front end.
import type { NodeSnapshot, SnapshotGpu } from '../model/snapshot.js';
import type { Message, MessageField } from '../model/message.js';
import { formatBytes, formatDuration } from '../lib/format.js';
import { jobName } from '../model/job-name.js';
import type { JobView } from '../model/job-view.js';

const TOP_N = 5;

function topProcesses(snap: NodeSnapshot, by: 'cpu' | 'rss'): Message['table'] {
  const procs = [...snap.busy]
    .sort((a, b) => (by === 'cpu' ? (b.cpu_pct ?? 0) - (a.cpu_pct ?? 0) : b.rss_bytes - a.rss_bytes))
    .slice(0, TOP_N);
  if (procs.length === 0) return undefined;
  return {
    columns: ['user', 'pid', '%cpu', 'mem', 'command'],
    rows: procs.map((p) => [p.user, String(p.pid), p.cpu_pct === null ? '—' : p.cpu_pct.toFixed(0), formatBytes(p.rss_bytes), p.cmd]),
  };
}

export function nodeDownMessage(host: string, silentSeconds: number, runningJobs: number): Message {
  const fields: MessageField[] = [
    { name: 'Node', value: host, inline: true },
    { name: 'Silent for', value: formatDuration(silentSeconds), inline: true },
  ];
  if (runningJobs > 0) fields.push({ name: 'flurm jobs running there', value: String(runningJobs), inline: true });
  return {
    title: `⚠ node ${host} stopped reporting`,
    severity: 'failure',
    summary: `No new snapshot from ${host} for ${formatDuration(silentSeconds)}: the node is down, unreachable, or its agent stopped.`,
    fields,
    footer: `flurm · node ${host}`,
    data: { alert: { kind: 'node-down', host, silent_seconds: Math.round(silentSeconds), running_jobs: runningJobs } },
  };
}

export function nodeBackMessage(host: string, downSeconds: number | null, snap: NodeSnapshot): Message {
  const rebooted = downSeconds !== null && snap.uptime_seconds < downSeconds;
  const fields: MessageField[] = [{ name: 'Node', value: host, inline: true }];
  if (downSeconds !== null) fields.push({ name: 'Silent for', value: formatDuration(downSeconds), inline: true });
  fields.push({ name: 'Uptime', value: formatDuration(snap.uptime_seconds), inline: true });
  return {
    title: `✓ node ${host} is reporting again`,
    severity: 'success',
    summary: rebooted ? `${host} is back; it rebooted ${formatDuration(snap.uptime_seconds)} ago.` : `${host} is back.`,
    fields,
    footer: `flurm · node ${host}`,
    data: { alert: { kind: 'node-back', host, down_seconds: downSeconds === null ? null : Math.round(downSeconds), rebooted } },
  };
}

export function loadMessage(host: string, snap: NodeSnapshot, perCore: number, minutes: number): Message {
  const [l1, l5] = snap.load;
  return {
    title: `⚠ ${host} overloaded: load ${l1.toFixed(1)} on ${snap.cpus} cores`,
    severity: 'warning',
    summary: `Load has stayed above ${perCore} × ${snap.cpus} cores for ${minutes} min: jobs there run slower than they should.`,
    fields: [
      { name: 'Node', value: host, inline: true },
      { name: 'Load 1/5 min', value: `${l1.toFixed(1)} / ${l5.toFixed(1)}`, inline: true },
      { name: 'Cores', value: String(snap.cpus), inline: true },
    ],
    table: topProcesses(snap, 'cpu'),
    footer: `flurm · node ${host}`,
    data: { alert: { kind: 'load', host, load: snap.load, cpus: snap.cpus, threshold_per_core: perCore } },
  };
}

export function memoryMessage(host: string, snap: NodeSnapshot, thresholdPct: number, minutes: number): Message {
  const availPct = snap.mem.total_bytes > 0 ? (snap.mem.available_bytes / snap.mem.total_bytes) * 100 : 0;
  return {
    title: `⚠ ${host} is low on memory: ${formatBytes(snap.mem.available_bytes)} available`,
    severity: 'warning',
    summary: `Available memory has stayed below ${thresholdPct} % for ${minutes} min (now ${availPct.toFixed(1)} %): the next allocation may be OOM-killed.`,
    fields: [
      { name: 'Node', value: host, inline: true },
      { name: 'Available', value: `${formatBytes(snap.mem.available_bytes)} of ${formatBytes(snap.mem.total_bytes)}`, inline: true },
      { name: 'Swap used', value: formatBytes(Math.max(0, snap.mem.swap_total_bytes - snap.mem.swap_free_bytes)), inline: true },
    ],
    table: topProcesses(snap, 'rss'),
    footer: `flurm · node ${host}`,
    data: { alert: { kind: 'memory', host, available_pct: Number(availPct.toFixed(1)), threshold_pct: thresholdPct } },
  };
}

export function gpuIdleMessage(host: string, gpu: SnapshotGpu, minutes: number, utilPct: number): Message {
  const holders = gpu.procs.map((p) => `${p.user ?? 'unknown user'} (pid ${p.pid}${p.mem_bytes === null ? '' : `, ${formatBytes(p.mem_bytes)}`})`);
  const who = [...new Set(gpu.procs.map((p) => p.user ?? 'unknown user'))].join(', ') || 'unknown';
  return {
    title: `⚠ GPU ${gpu.index} on ${host} held idle by ${who}`,
    severity: 'warning',
    summary: `${gpu.mem_used_bytes === null ? 'Memory' : formatBytes(gpu.mem_used_bytes)} of GPU memory has been held for over ${minutes} min while utilisation stayed under ${utilPct} %: nobody else can use this GPU.`,
    fields: [
      { name: 'Node', value: host, inline: true },
      { name: 'GPU', value: `${gpu.index} · ${gpu.name}`, inline: true },
      { name: 'Memory', value: `${gpu.mem_used_bytes === null ? '?' : formatBytes(gpu.mem_used_bytes)} of ${gpu.mem_total_bytes === null ? '?' : formatBytes(gpu.mem_total_bytes)}`, inline: true },
      { name: 'Held by', value: holders.join('\n') || 'no process visible to the agent', inline: false },
    ],
    footer: `flurm · node ${host}`,
    data: { alert: { kind: 'gpu-idle', host, gpu: gpu.index, uuid: gpu.uuid, holders: gpu.procs.map((p) => ({ user: p.user, pid: p.pid, mem_bytes: p.mem_bytes })) } },
  };
}

/** To a job's owner: the node it runs on went silent (the job may still be fine). */
export function jobNodeDownMessage(job: JobView, silentSeconds: number): Message {
  const name = jobName(job, { hideCommand: !job.cmd });
  return {
    title: `⚠ ${name}: node ${job.host} stopped reporting`,
    severity: 'warning',
    summary: `Node ${job.host} stopped reporting while your job was running (silent for ${formatDuration(silentSeconds)}). The job may still be running; you will hear when it ends or if it is gone when the node is back.`,
    fields: [
      { name: 'Host', value: job.host, inline: true },
      { name: 'User', value: job.user, inline: true },
      ...(job.cmd ? [{ name: 'Command', value: job.cmd.slice(0, 1000), inline: false }] : []),
    ],
    footer: `flurm · job ${job.id}`,
    data: { alert: { kind: 'job-node-down', host: job.host, job: job.id, user: job.user } },
  };
}

/** The SLURM controller stopped answering: ONE lab alert, not a message per watched job. */
export function slurmDownMessage(problem: string, downSeconds: number, watching: number): Message {
  const fields: MessageField[] = [
    { name: 'Failing for', value: formatDuration(downSeconds), inline: true },
    { name: 'Jobs watched', value: String(watching), inline: true },
    { name: 'Last error', value: problem.slice(0, 500), inline: false },
  ];
  return {
    title: '⚠ SLURM is not answering',
    severity: 'failure',
    summary: `squeue has failed for ${formatDuration(downSeconds)}: slurmctld is down or unreachable. flurm keeps retrying with backoff; no job is judged ended meanwhile, and every watched job is followed up once SLURM answers.`,
    fields,
    footer: 'flurm · slurm',
    data: { alert: { kind: 'slurmctld-down', problem, down_seconds: Math.round(downSeconds), watching } },
  };
}

export function slurmBackMessage(downSeconds: number): Message {
  return {
    title: '✓ SLURM answers again',
    severity: 'success',
    summary: `squeue works again after ${formatDuration(downSeconds)}. Jobs that ended meanwhile get their messages now.`,
    fields: [{ name: 'Was failing for', value: formatDuration(downSeconds), inline: true }],
    footer: 'flurm · slurm',
    data: { alert: { kind: 'slurmctld-back', down_seconds: Math.round(downSeconds) } },
  };
}
