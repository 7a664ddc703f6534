// The hub's HTTP API, declared once: each answer's zod schema, whose type the hub's handlers must
// produce (`satisfies`, checked by the compiler) and against which its client (cli/source.ts)
// checks what comes back. A field the client relies on that is missing or of the wrong type is an
// error naming the URL and the field, never a crash further in. Also the command endpoints'
// request and answer (POST /api/v1/commands/NAME).
import { z } from 'zod';
import { formatPath } from '../lib/field-path.js';
import type { JobView } from './job-view.js';
import type { NodeView, NodesResponse } from './node-view.js';
import type { SlurmClusterView } from './slurm-view.js';
import { snapshotSchema } from './snapshot-schema.js';

const str = z.string();
const nstr = z.string().nullable();
const nnum = z.number().nullable();

export const jobViewSchema = z.looseObject({
  id: str,
  user: str,
  host: str,
  state: z.enum(['pending', 'running', 'succeeded', 'failed', 'unknown', 'vanished']),
  title: nstr.optional(),
  cmd: nstr.optional(),
  cwd: nstr.optional(),
  pid: nnum.optional(),
  startTs: nstr.optional(),
  endTs: nstr.optional(),
  exit: nnum.optional(),
  signal: nstr.optional(),
  exitUnknown: z.boolean().optional(),
  wallSeconds: nnum.optional(),
  cpuSeconds: nnum.optional(),
  peakRssBytes: nnum.optional(),
  tail: z.array(str).nullable().optional(),
  log: nstr.optional(),
  detached: z.boolean().optional(),
  attached: z.boolean().optional(),
  src: nstr.optional(),
  slurm: z
    .looseObject({ job_id: str, cluster: nstr.optional(), array: nstr.optional(), tasks: nnum.optional(), final: z.record(str, z.unknown()).optional() })
    .nullable()
    .optional(),
}) satisfies z.ZodType<JobView>;

export const nodeViewSchema = z.looseObject({
  host: str,
  state: z.enum(['fresh', 'stale', 'down', 'waiting']),
  age_seconds: nnum.default(null),
  snapshot: snapshotSchema,
  jobs: z.array(jobViewSchema).default([]),
  idle_since: nstr.default(null),
  active_users: z.array(str).optional(),
  busy_omitted: z.number().optional(),
  problem: str.optional(),
}) satisfies z.ZodType<NodeView, unknown>;

/** GET /api/v1/nodes[?busy=N] */
export const nodesResponseSchema = z.object({
  generated: str,
  nodes: z.array(nodeViewSchema),
}) satisfies z.ZodType<NodesResponse, unknown>;

const slurmNodeSchema = z.looseObject({
  name: str,
  partitions: z.array(str),
  state: str,
  flags: z.array(str),
  cpus_total: nnum,
  cpus_alloc: nnum,
  cpus_idle: nnum,
  memory_bytes: nnum,
  alloc_memory_bytes: nnum,
  free_memory_bytes: nnum,
  gpus_total: z.number(),
  gpus_alloc: nnum,
  gpu_types: z.array(str),
  load: nnum,
  reason: nstr,
});

const slurmPartitionSchema = z.looseObject({
  name: str,
  default: z.boolean(),
  avail: nstr,
  time_limit_seconds: nnum,
  nodes: z.array(str),
  cpus_total: z.number(),
  cpus_alloc: z.number(),
  cpus_idle: z.number(),
  gpus_total: z.number(),
  gpus_alloc: z.number(),
});

const slurmJobSchema = z.looseObject({
  job_id: str,
  array_job_id: nnum,
  array_task_id: nnum,
  user: str,
  state: str,
  reason: nstr,
  partition: nstr,
  name: nstr,
  cpus: nnum,
  nodes: nnum,
  gpus: z.number(),
  min_memory_bytes: nnum,
  node_list: nstr,
  time_used_seconds: nnum,
  time_limit_seconds: nnum,
  submit: nstr,
  start: nstr,
  tasks: z.number().optional(),
});

/** GET /api/v1/slurm (404 when the hub has SLURM off) */
export const slurmViewSchema = z.looseObject({
  generated: str,
  sinfo_at: nstr.default(null),
  squeue_at: nstr.default(null),
  problem: nstr.default(null),
  problem_since: nstr.optional(),
  nodes: z.array(slurmNodeSchema),
  partitions: z.array(slurmPartitionSchema),
  jobs: z.array(slurmJobSchema),
}) satisfies z.ZodType<SlurmClusterView, unknown>;

/** GET /api/v1/jobs?user=&running=1&limit= (`name` since 0.1; an older hub leaves it out) */
export const jobsResponseSchema = z.object({ jobs: z.array(jobViewSchema.extend({ name: str.optional() })) });

/** GET /api/v1/nodes/HOST/history?resolution=60|3600&hours=N */
export const nodeHistorySchema = z.object({ host: str, resolution_seconds: z.number(), samples: z.array(z.record(str, z.unknown())) });

/** GET /api/v1/history: the kind it answers and its buckets (model/history.ts HistoryData; the rest is read as declared there) */
export const historyAnswerSchema = z.looseObject({ kind: z.enum(['nodes', 'gpus', 'slurm', 'jobs', 'report']), sinceMs: z.number(), untilMs: z.number() });

/** GET /healthz (the fields `flurm doctor` reads; the rest is the hub's to add) */
export const healthSchema = z.looseObject({ ok: z.boolean(), version: str, host: str, outbox: z.record(str, z.number()), slurm: z.unknown().optional() });

/** GET /api/v1/destinations: the ones the hub gave up on */
export const destinationsSchema = z.object({ destinations: z.array(z.looseObject({ dest: str, disabled_reason: str })) });

/** GET /api/v1/problems */
export const problemsSchema = z.object({ problems: z.array(z.looseObject({ user: nstr, reason: str, count: z.number() })) });

/** One chat link in GET /api/v1/links/USER. */
export const chatLinkSchema = z.looseObject({
  chat: z.enum(['discord', 'slack']),
  /** The chat's user id */
  id: str,
  /** 'spool': `flurm link`; 'config': the hub config's [users.NAME] discord / slack */
  source: z.enum(['spool', 'config']),
  linked_at: str,
  /** Where `flurm link` ran */
  host: str.optional(),
});

/**
 * GET /api/v1/links/USER: whether USER is linked to chat accounts, by which means
 * (docs/linking.md). `links`: one per chat; the top-level discord_id, source, linked_at and host
 * repeat the Discord one (what hubs before Slack links answered).
 */
export const linkStatusSchema = z.looseObject({
  user: str,
  linked: z.boolean(),
  links: z.array(chatLinkSchema).optional(),
  discord_id: str.optional(),
  /** 'spool': `flurm link`; 'config': the hub config's [users.NAME] discord */
  source: z.enum(['spool', 'config']).optional(),
  linked_at: str.optional(),
  /** Where `flurm link` ran */
  host: str.optional(),
});

export type LinkStatusJson = z.infer<typeof linkStatusSchema>;

/** Any error answer: `{error}`; the command endpoints add the field and the exit code. */
export const errorAnswerSchema = z.looseObject({
  error: str,
  issues: z.array(z.object({ field: str, message: str })).optional(),
  exit_code: z.number().optional(),
});

/** POST /api/v1/commands/NAME: the arguments as a JSON object; the answer: */
export const commandAnswerSchema = z.object({
  command: str,
  exit_code: z.union([z.literal(0), z.literal(1)]),
  where: z.object({ source: z.enum(['hub', 'files', 'live', 'spool']), hub: nstr, generated: str }),
  result: z.record(str, z.unknown()),
  messages: z.array(z.looseObject({ title: str, severity: z.enum(['success', 'failure', 'warning', 'info']) })),
});

export type CommandAnswerJson = z.infer<typeof commandAnswerSchema>;

/** `data` checked against `schema`; an Error naming `where` and the first wrong field. */
export function checkAnswer<S extends z.ZodType>(schema: S, data: unknown, where: string): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  throw new Error(`${where}: not the answer this flurm expects (${formatPath(i.path)}: ${i.message})`);
}
