// `flurm mcp`: the command table as an MCP server over stdio for an agent (docs/mcp.md), reading
// the cluster as the CLI does (the hub over HTTP, else the snapshot files and live SLURM), as the
// user who runs it. stdout carries the protocol only: warnings go to stderr.
import fs from 'node:fs';
import path from 'node:path';
import { COMMANDS } from '../../commands/registry.js';
import { UserError, errorMessage } from '../../lib/errors.js';
import { execCommand } from '../../lib/exec.js';
import { createCliSource } from '../source.js';
import { packageVersion } from '../version.js';
import { userName } from '../../lib/host.js';

/** `run_job`: `flurm run -d` as this user, in `cwd`; its id and log from what it prints. */
async function runDetached(a: { argv: string[]; cwd: string; title?: string }, env: NodeJS.ProcessEnv): Promise<{ id: string; log: string | null }> {
  if (!path.isAbsolute(a.cwd)) throw new UserError(`cwd "${a.cwd}" is not an absolute directory`);
  const st = fs.statSync(a.cwd, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw new UserError(`cwd ${a.cwd} is not a directory here`);
  const self = process.argv[1]!;
  let said: string;
  try {
    const r = await execCommand(process.execPath, [self, 'run', '-d', ...(a.title ? ['-t', a.title] : []), '--', ...a.argv], { cwd: a.cwd, env, timeoutMs: 30_000, maxOutputBytes: 64 * 1024 });
    said = `${r.stdout}${r.stderr}`;
  } catch (err) {
    throw new UserError(`flurm run did not start the job: ${errorMessage(err).slice(0, 500)}`);
  }
  const m = /job (\w{26}) running in the background(?:; output: (.+))?/.exec(said);
  if (!m) throw new UserError(`flurm run did not say which job it started: ${said.trim().slice(0, 500)}`);
  return { id: m[1]!, log: m[2]?.trim() ?? null };
}

export async function run(opts: { hub?: string; allowRun?: boolean }): Promise<number> {
  const env = process.env;
  const [{ createMcpServer }, { StdioServerTransport }] = await Promise.all([import('../../frontends/mcp/server.js'), import('@modelcontextprotocol/sdk/server/stdio.js')]);
  const source = createCliSource({ ...(opts.hub ? { hub: opts.hub } : {}), env, warn: (line) => process.stderr.write(`flurm mcp: ${line}\n`) });
  const server = await createMcpServer({ source, commands: COMMANDS, user: userName(env), version: packageVersion(), ...(env.FLURM_WAIT_EVERY_MS ? { waitEveryMs: Number(env.FLURM_WAIT_EVERY_MS) } : {}), ...(opts.allowRun ? { runJob: (a: { argv: string[]; cwd: string; title?: string }) => runDetached(a, env) } : {}) });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
  await server.connect(transport);
  // Until the client closes stdin (or a signal ends the process).
  process.stdin.on('end', () => void server.close());
  await closed;
  return 0;
}
