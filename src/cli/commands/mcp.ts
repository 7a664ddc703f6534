// `flurm mcp`: the command table as an MCP server over stdio for an agent (docs/mcp.md), reading
// the cluster as the CLI does (the hub over HTTP, else the snapshot files and live SLURM), as the
// user who runs it. stdout carries the protocol only: warnings go to stderr.
import { COMMANDS } from '../../commands/registry.js';
import { createCliSource } from '../source.js';
import { packageVersion } from '../version.js';
import { userName } from '../../lib/host.js';

export async function run(opts: { hub?: string }): Promise<number> {
  const env = process.env;
  const [{ createMcpServer }, { StdioServerTransport }] = await Promise.all([import('../../frontends/mcp/server.js'), import('@modelcontextprotocol/sdk/server/stdio.js')]);
  const source = createCliSource({ ...(opts.hub ? { hub: opts.hub } : {}), env, warn: (line) => process.stderr.write(`flurm mcp: ${line}\n`) });
  const server = await createMcpServer({ source, commands: COMMANDS, user: userName(env), version: packageVersion(), ...(env.FLURM_WAIT_EVERY_MS ? { waitEveryMs: Number(env.FLURM_WAIT_EVERY_MS) } : {}) });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
  await server.connect(transport);
  // Until the client closes stdin (or a signal ends the process).
  process.stdin.on('end', () => void server.close());
  await closed;
  return 0;
}
