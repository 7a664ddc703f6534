// The command table as an MCP server (docs/mcp.md): every entry is a read-only tool with the
// entry's own zod arguments as its input schema and one output schema for all ({source, hub,
// generated, result} — what `--json` prints), its text the terminal's rendering (plain), and a
// chart (history, heatmap) also as PNG image content. Beside them: `job_log` (the last lines of one
// of the caller's own jobs) and `wait_for_job` (returns when the hub sees the job end, or at a
// timeout). The MCP SDK is imported only by `flurm mcp` (and the hub's /mcp), never on the
// `flurm run` path. A bad argument or a failing command is a tool error result naming what is
// wrong; nothing here throws to the client.
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { errorAnswer, invoke } from '../../commands/invoke.js';
import type { DataSource } from '../../commands/source.js';
import type { CommandAnswer, CommandContext, CommandDef } from '../../commands/table.js';
import { errorMessage } from '../../lib/errors.js';
import type { JobView } from '../../model/job-view.js';
import type { Message } from '../../model/message.js';
import { renderMessageForTerminal } from '../cli/message.js';
import { chartPicture } from '../chart-picture.js';

export interface McpOptions {
  source: DataSource;
  commands: readonly CommandDef[];
  /** The unix user the agent acts for ($USER of `flurm mcp`): `job_log` and `wait_for_job` see only theirs. */
  user: string | null;
  version: string;
  /** How often `wait_for_job` asks the hub (ms; tests shorten it). */
  waitEveryMs?: number;
  /**
   * `flurm mcp --allow-run`: the acting tool `run_job`, which starts `flurm run -d` as this user on
   * this node. Absent: no tool can change anything.
   */
  runJob?: (a: { argv: string[]; cwd: string; title?: string }) => Promise<{ id: string; log: string | null }>;
}

/** Every table tool answers in this shape: where the data came from and the command's typed result. */
const OUTPUT = {
  source: z.string().describe('where the data came from: hub, files (no hub), live, spool'),
  hub: z.string().nullable().describe('the hub asked, when one was'),
  generated: z.string().describe('ISO time the data is as of'),
  result: z.record(z.string(), z.unknown()).describe('the command\'s result, as `flurm NAME --json` prints it'),
};

/** The most lines `job_log` returns (an `end` event carries at most 50). */
const LOG_LINES_MAX = 50;
const WAIT_MAX_SECONDS = 3600;
/** How long wait_for_job waits for a job the hub has not heard of yet (one just started). */
const NOT_YET_MS = 15_000;

class NoSuchJob extends Error {}

type ToolResult = { content: ({ type: 'text'; text: string } | { type: 'image'; data: string; mimeType: string })[]; structuredContent?: Record<string, unknown>; isError?: boolean };

const text = (messages: readonly Message[]) => messages.map((m) => renderMessageForTerminal(m, { colour: false, width: 100 })).join('\n');
const failure = (err: unknown, asked: (c: string) => string): ToolResult => ({ content: [{ type: 'text', text: text([errorAnswer(err, asked)]) }], isError: true });

export async function createMcpServer(o: McpOptions): Promise<McpServer> {
  const { McpServer: Server } = await import('@modelcontextprotocol/sdk/server/mcp.js');
  const server = new Server({ name: 'flurm', version: o.version }, { instructions: 'The lab\'s cluster: which node is free (best), what runs where (status, top, users, queue), jobs and their logs, history and reports. Every number comes from flurm\'s agents, its hub or SLURM.' });
  const ctx: CommandContext = { user: o.user, warn: () => undefined };
  const asked = (c: string) => `the ${c} tool`;

  for (const def of o.commands) {
    server.registerTool(
      def.name,
      {
        title: `flurm ${def.name}`,
        description: def.description,
        inputSchema: def.args,
        outputSchema: OUTPUT,
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      },
      async (args: unknown): Promise<ToolResult> => {
        let a: CommandAnswer;
        try {
          a = await invoke(def, args ?? {}, o.source, ctx, { frontEnd: 'other' });
        } catch (err) {
          return failure(err, asked);
        }
        const content: ToolResult['content'] = [{ type: 'text', text: text(a.messages) }];
        const chart = a.messages.find((m) => m.chart)?.chart;
        if (chart) {
          try {
            content.push({ type: 'image', data: (await chartPicture(chart)).png.toString('base64'), mimeType: 'image/png' });
          } catch (err) {
            content.push({ type: 'text', text: `(the chart could not be drawn: ${errorMessage(err)})` });
          }
        }
        return { content, structuredContent: { source: a.where.source, hub: a.where.hub, generated: a.where.generated, result: a.result as Record<string, unknown> } };
      },
    );
  }

  const ownJob = async (id: string): Promise<JobView & { name: string }> => {
    if (!o.user) throw new Error('who is asking is not known ($USER is not set), so no job is theirs');
    const r = await o.source.jobs({ user: o.user, limit: 500 });
    if (!r.ok) throw new Error(`no jobs to look in: ${r.why}`);
    const wanted = id.trim().toUpperCase();
    const matches = r.jobs.filter((j) => j.id.toUpperCase() === wanted || j.id.toUpperCase().startsWith(wanted));
    if (matches.length === 0) throw new NoSuchJob(`${o.user} has no job "${id}" among their last 500 (flurm jobs lists them)`);
    if (matches.length > 1) throw new Error(`"${id}" is the start of ${matches.length} of ${o.user}'s jobs: give more of the id`);
    return matches[0]!;
  };
  const jobSummary = (j: JobView & { name: string }) => ({ id: j.id, name: j.name, state: j.state, exit: j.exit ?? null, signal: j.signal ?? null, host: j.host, start: j.startTs ?? null, end: j.endTs ?? null });
  const JOB = { id: z.string(), name: z.string(), state: z.string(), exit: z.number().nullable(), signal: z.string().nullable(), host: z.string(), start: z.string().nullable(), end: z.string().nullable() };
  const jobId = z.string().min(4, 'give at least 4 characters of the job id').max(64).regex(/^[0-9A-Za-z]+$/, 'is not a job id (letters and digits, as flurm jobs shows them)').describe('the job id, or its first characters (flurm jobs shows them)');

  server.registerTool(
    'job_log',
    {
      title: 'The last lines of one of your jobs',
      description: 'The last lines a job of yours printed (what its end carried), with how it ended. Only the caller\'s own jobs.',
      inputSchema: { id: jobId, lines: z.number().int().min(1).max(LOG_LINES_MAX).default(LOG_LINES_MAX).describe(`at most this many of the last lines (1–${LOG_LINES_MAX})`) },
      outputSchema: { job: z.object(JOB), lines: z.array(z.string()) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ id, lines }): Promise<ToolResult> => {
      try {
        const j = await ownJob(id);
        const tail = (j.tail ?? []).slice(-lines);
        const head = `${j.name} (${j.id}) on ${j.host}: ${j.state}${j.exit !== null && j.exit !== undefined ? `, exit ${j.exit}` : ''}${j.signal ? `, ${j.signal}` : ''}`;
        return { content: [{ type: 'text', text: tail.length ? `${head}\n${tail.join('\n')}` : `${head}\n(no log lines: the job ${j.state === 'running' ? 'has not ended yet' : 'ended without any'})` }], structuredContent: { job: jobSummary(j), lines: tail } };
      } catch (err) {
        return { content: [{ type: 'text', text: errorMessage(err) }], isError: true };
      }
    },
  );

  server.registerTool(
    'wait_for_job',
    {
      title: 'Wait for one of your jobs to end',
      description: 'Returns when the hub sees the job end (with how it ended), or when the timeout passes (still running). Only the caller\'s own jobs.',
      inputSchema: { id: jobId, timeout_seconds: z.number().positive().max(WAIT_MAX_SECONDS).default(600).describe(`give up after this many seconds (at most ${WAIT_MAX_SECONDS})`) },
      outputSchema: { ended: z.boolean(), job: z.object(JOB) },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ id, timeout_seconds }, extra): Promise<ToolResult> => {
      try {
        const until = Date.now() + timeout_seconds * 1000;
        // A job just started (run_job) may not have reached the hub yet: not found is "not yet" for a while.
        const findBy = Math.min(until, Date.now() + NOT_YET_MS);
        for (;;) {
          let j: JobView & { name: string };
          try {
            j = await ownJob(id);
          } catch (err) {
            if (!(err instanceof NoSuchJob) || Date.now() >= findBy || extra.signal.aborted) throw err;
            await new Promise((r) => setTimeout(r, o.waitEveryMs ?? 250));
            continue;
          }
          const ended = j.state !== 'running' && j.state !== 'pending';
          if (ended || Date.now() >= until || extra.signal.aborted) {
            const how = ended ? `ended: ${j.state}${j.exit !== null && j.exit !== undefined ? `, exit ${j.exit}` : ''}${j.signal ? `, ${j.signal}` : ''}` : `still ${j.state} after ${timeout_seconds} s`;
            return { content: [{ type: 'text', text: `${j.name} (${j.id}) on ${j.host}: ${how}` }], structuredContent: { ended, job: jobSummary(j) } };
          }
          await new Promise((r) => setTimeout(r, Math.min(o.waitEveryMs ?? 250, Math.max(0, until - Date.now()))));
        }
      } catch (err) {
        return { content: [{ type: 'text', text: errorMessage(err) }], isError: true };
      }
    },
  );
  if (o.runJob) {
    const runJob = o.runJob;
    server.registerTool(
      'run_job',
      {
        title: 'Start a job on this node (as you)',
        description: 'Starts a program in the background with `flurm run -d` on the node `flurm mcp` runs on, as its user, in the given directory; returns the job id to wait on (wait_for_job) and its log file. Only with `flurm mcp --allow-run`.',
        inputSchema: {
          argv: z.array(z.string().min(1).max(4096)).min(1).max(256).describe('the program and its arguments (no shell: ["python", "train.py", "--lr", "3e-4"])'),
          cwd: z.string().min(1).max(4096).describe('an absolute directory to run in'),
          title: z.string().min(1).max(128).regex(/^[^\n\r]+$/, 'must be one line').describe('a name for the job in its messages').optional(),
        },
        outputSchema: { id: z.string(), log: z.string().nullable() },
        annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
      },
      async ({ argv, cwd, title }): Promise<ToolResult> => {
        try {
          const r = await runJob({ argv, cwd, ...(title ? { title } : {}) });
          return { content: [{ type: 'text', text: `started job ${r.id}${r.log ? `; its output goes to ${r.log}` : ''} (wait_for_job with this id returns when it ends)` }], structuredContent: r };
        } catch (err) {
          return { content: [{ type: 'text', text: errorMessage(err) }], isError: true };
        }
      },
    );
  }
  return server;
}
