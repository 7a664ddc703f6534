// The command table's contract: every entry has a schema, help and a JSON answer, and the three
// ways in give the same answer for the same cluster — an in-process call on the hub's DataSource
// (hub/source.ts), POST /api/v1/commands/NAME on the hub's real HTTP app (createApp + listen),
// and the built CLI (`flurm NAME --json`, and its text) reading the same hub's GET endpoints
// through cli/source.ts. Clusters: agent nodes only, SLURM only, both, and no hub at all (the
// CLI's own fallback: snapshot files and stand-in sinfo/squeue, in-process and as a process).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandSchema, invoke } from '../src/commands/invoke.js';
import { COMMANDS, findCommand } from '../src/commands/registry.js';
import { renderAnswer } from '../src/cli/query.js';
import { createCliSource } from '../src/cli/source.js';
import { createApp, listen, type HubApi } from '../src/hub/http/server.js';
import { createHubSource } from '../src/hub/source.js';
import { findExecutable } from '../src/lib/exec.js';
import { checkAnswer, commandAnswerSchema, errorAnswerSchema } from '../src/model/api.js';
import { safeHostFileName } from '../src/lib/host.js';
import { withJobName } from '../src/model/job-name.js';
import type { JobView } from '../src/model/job-view.js';
import type { NodeView } from '../src/model/node-view.js';
import type { SlurmClusterView } from '../src/model/slurm-view.js';
import { SLURM_FIXTURES } from './fixtures/slurm/fixtures.js';
import { gpuView, realBusyView } from './fixtures/slurm/views-fixtures.js';
import { runFlurm } from './support/lab.js';
import { GENERATED, job, lab } from './support/nodes.js';

/** As the hub answers ?busy=N: the N busiest processes, the users named by the hub. */
function nodesAnswer(nodes: NodeView[], busyLimit: number | undefined) {
  return {
    generated: GENERATED,
    nodes: nodes.map((v) =>
      busyLimit === undefined
        ? v
        : {
            ...v,
            snapshot: { ...v.snapshot, busy: v.snapshot.busy.slice(0, busyLimit) },
            active_users: [...new Set([...v.snapshot.busy.map((p) => p.user), ...(v.snapshot.gpus ?? []).flatMap((g) => g.procs.map((p) => p.user ?? '')).filter(Boolean)])].sort(),
          },
    ),
  };
}

const JOBS: JobView[] = [
  job('alice', 'cpu1', { title: 'preprocess' }),
  job('bob', 'cpu1', { state: 'succeeded', id: '01JNODEJOBBOBDONE0000000000', exit: 0, endTs: '2026-03-02T10:00:00.000Z', wallSeconds: 1800 }),
  job('carol', 'gpu1', { state: 'failed', id: '01JNODEJOBCAROLFAIL00000000', exit: 3, endTs: '2026-03-02T11:00:00.000Z', wallSeconds: 60 }),
];

function fixtureApi(nodes: NodeView[], slurm: SlurmClusterView | null): HubApi {
  return {
    ring: () => undefined,
    health: () => ({}),
    jobs: (q) =>
      JOBS.filter((j) => (!q.user || j.user === q.user) && (!q.running || j.state === 'running'))
        .slice(0, q.limit ?? 50)
        .map((j) => withJobName(j)),
    job: () => undefined,
    problems: () => [],
    destinations: () => [],
    nodes: (q) => nodesAnswer(nodes, q.busyLimit),
    nodeHistory: () => [],
    slurm: () => slurm,
  };
}

interface Served {
  url: string;
  server: Server;
  api: HubApi;
}

async function serve(nodes: NodeView[], slurm: SlurmClusterView | null): Promise<Served> {
  const holder: { url: string | null } = { url: null };
  const api = { ...fixtureApi(nodes, slurm), selfUrl: () => holder.url };
  const { server, url } = await listen(createApp(api), '127.0.0.1', 0);
  holder.url = url;
  return { url, server, api };
}

/** What one way in said: the JSON result, the exit code, the terminal text (or the error). */
interface Said {
  exit: number;
  result?: unknown;
  text?: string;
  error?: string;
}

const roundTrip = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;


async function inProcess(name: string, args: Record<string, unknown>, source: Parameters<typeof invoke>[2]): Promise<Said> {
  try {
    const a = await invoke(findCommand(name)!, args, source, { user: null, warn: () => undefined }, { frontEnd: 'cli' });
    return { exit: a.exitCode, result: roundTrip(a.result), text: renderAnswer(findCommand(name)!, a, false) };
  } catch (err) {
    return { exit: (err as { exitCode?: number }).exitCode ?? 2, error: (err as Error).message };
  }
}

async function overHttp(url: string, name: string, args: Record<string, unknown>): Promise<Said> {
  const res = await fetch(`${url}/api/v1/commands/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) });
  const body: unknown = await res.json();
  if (res.status === 200) {
    const a = checkAnswer(commandAnswerSchema, body, `POST /api/v1/commands/${name}`);
    return { exit: a.exit_code, result: a.result };
  }
  const e = checkAnswer(errorAnswerSchema, body, `POST /api/v1/commands/${name}`);
  return { exit: e.exit_code ?? -1, error: e.error };
}

let root: string;
function cliEnv(over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: root, FLURM_SPOOL: path.join(root, 'spool'), FLURM_CLUSTER: path.join(root, 'cluster'), USER: 'alice' };
  for (const k of ['FLURM_HUB_URL', 'NO_COLOR', 'FORCE_COLOR', 'FLURM_SINFO', 'FLURM_SQUEUE', 'FLURM_SSH']) delete env[k];
  return { ...env, FLURM_SLURM: 'off', ...over };
}

/** `flurm NAME ARGS --json` and the same without --json; the result is the JSON less where it came from. */
async function viaCli(cliArgs: string[], env: NodeJS.ProcessEnv): Promise<Said> {
  const j = await runFlurm([...cliArgs, '--json'], { env });
  const t = await runFlurm(cliArgs, { env });
  expect(t.code).toBe(j.code);
  // An answer is JSON on stdout (exit 0, or 1 for "no"); an error is one line on stderr.
  if ((j.code === 0 || j.code === 1) && j.stdout.trim() !== '') {
    const { source: _s, hub: _h, generated: _g, ...result } = JSON.parse(j.stdout) as Record<string, unknown>;
    return { exit: j.code, result, text: t.stdout };
  }
  return { exit: j.code ?? -1, error: j.stderr.replace(/^flurm: /, '').trim() };
}

/** Each case: the command, its arguments as every front end takes them, and as CLI words. */
const CASES: { name: string; args: Record<string, unknown>; cli: string[] }[] = [
  { name: 'status', args: {}, cli: ['status'] },
  { name: 'best', args: { gpus: 2 }, cli: ['best', '--gpus', '2'] },
  { name: 'best', args: { gpus: 9 }, cli: ['best', '--gpus', '9'] },
  { name: 'best', args: { slurm: true, cpus: 1 }, cli: ['best', '--slurm', '--cpus', '1'] },
  { name: 'top', args: {}, cli: ['top'] },
  { name: 'top', args: { node: 'gpu4' }, cli: ['top', 'gpu4'] },
  { name: 'inspect', args: { node: 'gpu4' }, cli: ['inspect', 'gpu4'] },
  { name: 'users', args: {}, cli: ['users'] },
  { name: 'queue', args: {}, cli: ['queue'] },
  { name: 'jobs', args: { all: true }, cli: ['jobs', '--all'] },
  { name: 'jobs', args: { user: 'carol', limit: 1 }, cli: ['jobs', '--user', 'carol', '--limit', '1'] },
];

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-contract-'));
  fs.mkdirSync(path.join(root, 'spool'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('the table', () => {
  it('every entry has a name, a one-line description, help for each argument, and a JSON Schema', () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(['status', 'best', 'top', 'inspect', 'users', 'queue', 'jobs', 'history', 'heatmap', 'report']);
    for (const def of COMMANDS) {
      expect(def.description, def.name).toMatch(/^[^\n]{10,100}$/);
      const s = commandSchema(def);
      expect(s.args.type, def.name).toBe('object');
      for (const [k, p] of Object.entries((s.args.properties ?? {}) as Record<string, { description?: string; type?: string }>)) {
        expect(p.description, `${def.name}.${k}`).toMatch(/\w/);
        expect(['integer', 'number', 'string', 'boolean'], `${def.name}.${k}`).toContain(p.type);
      }
    }
    // CLI-only arguments stay out of the table the other front ends see.
    expect(Object.keys((commandSchema(findCommand('inspect')!).args.properties ?? {}) as object)).toEqual(['node']);
    expect(Object.keys((commandSchema(findCommand('inspect')!, { frontEnd: 'cli' }).args.properties ?? {}) as object)).toEqual(['node', 'live']);
  });
});

for (const [label, nodes, slurm] of [
  ['agent nodes only', lab(), null],
  ['SLURM only', [], realBusyView()],
  ['agent nodes and SLURM', lab(), gpuView()],
] as const) {
  describe(`with a hub: ${label}`, () => {
    let served: Served;
    beforeAll(async () => {
      served = await serve([...nodes], slurm);
    });
    afterAll(async () => {
      served.server.closeAllConnections();
      await new Promise((r) => served.server.close(r));
    });

    it('GET /api/v1/commands lists the table with each command\'s JSON Schema', async () => {
      const r = (await (await fetch(`${served.url}/api/v1/commands`)).json()) as { commands: { name: string; args: { properties?: object } }[] };
      expect(r.commands.map((c) => c.name)).toEqual(COMMANDS.map((c) => c.name));
      expect(Object.keys(r.commands.find((c) => c.name === 'best')!.args.properties!)).toEqual(['cpus', 'mem', 'gpus', 'gpu_mem', 'partition', 'slurm']);
    });

    for (const c of CASES) {
      it(`${c.cli.join(' ')}: in-process, POST /api/v1/commands/${c.name} and the CLI say the same`, async () => {
        const inProc = await inProcess(c.name, c.args, createHubSource(served.api, () => served.url));
        const http = await overHttp(served.url, c.name, c.args);
        const cli = await viaCli([...c.cli, '--hub', served.url], cliEnv());
        expect(http.exit).toBe(inProc.exit);
        expect(cli.exit).toBe(inProc.exit);
        if (inProc.error !== undefined) {
          expect(http.error).toBe(inProc.error);
          // The CLI names an argument its own way (`--slurm:`); the words after it are the same.
          expect(cli.error?.replace(/^--/, '')).toBe(inProc.error);
          return;
        }
        expect(http.result).toEqual(inProc.result);
        expect(cli.result).toEqual(inProc.result);
        // The CLI prints what the messages say, and nothing it decided itself.
        if (c.name !== 'jobs') expect(cli.text).toBe(inProc.text);
      });
    }

    it('a bad argument is a 400 naming the field, in the CLI exit 2 naming the option', async () => {
      const res = await fetch(`${served.url}/api/v1/commands/best`, { method: 'POST', body: JSON.stringify({ mem: '32Q', colour: 'red' }) });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { issues: { field: string; message: string }[] };
      expect(body.issues.map((i) => i.field).sort()).toEqual(['colour', 'mem']);
      expect((await fetch(`${served.url}/api/v1/commands/nope`, { method: 'POST' })).status).toBe(404);
      expect((await fetch(`${served.url}/api/v1/commands/status`, { method: 'POST', body: '[1]' })).status).toBe(400);
      expect((await fetch(`${served.url}/api/v1/commands/inspect`, { method: 'POST', body: JSON.stringify({ node: 'gpu4', live: true }) })).status).toBe(400);
      const cli = await runFlurm(['best', '--mem', '32Q', '--hub', served.url], { env: cliEnv() });
      expect(cli.code).toBe(2);
      expect(cli.stderr).toMatch(/--mem: "32Q" is not a size/);
    });
  });
}

describe('no hub: the CLI reads the snapshot files and runs sinfo/squeue itself', () => {
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    const dir = path.join(root, 'cluster', 'nodes');
    fs.mkdirSync(dir, { recursive: true });
    for (const n of lab()) fs.writeFileSync(path.join(dir, `${safeHostFileName(n.host)}.json`), JSON.stringify(n.snapshot));
    const fake = (name: string, file: string) => {
      const f = path.join(root, name);
      fs.writeFileSync(f, `#!/bin/sh\nexec '${findExecutable('cat')}' '${path.join(SLURM_FIXTURES, file)}'\n`, { mode: 0o755 });
      return f;
    };
    env = cliEnv({ FLURM_SLURM: '', FLURM_SINFO: fake('sinfo', 'views-sinfo-allocated.txt'), FLURM_SQUEUE: fake('squeue', 'views-squeue.txt') });
  });

  /** Times of this very run (the live view's clock) differ between two runs; nothing else may. */
  const timeless = (x: unknown): unknown =>
    JSON.parse(JSON.stringify(x), (k, v: unknown) => (['generated', 'sinfo_at', 'squeue_at', 'sinfo_age_seconds', 'squeue_age_seconds'].includes(k) ? undefined : v));

  for (const c of CASES.filter((x) => x.name !== 'jobs')) {
    it(`${c.cli.join(' ')}: in-process on the CLI's source and the CLI say the same`, async () => {
      const inProc = await inProcess(c.name, c.args, createCliSource({ env, warn: () => undefined }));
      const cli = await viaCli(c.cli, env);
      expect(cli.exit).toBe(inProc.exit);
      if (inProc.error !== undefined) return expect(cli.error).toBe(inProc.error);
      expect(timeless(cli.result)).toEqual(timeless(inProc.result));
    });
  }
});
