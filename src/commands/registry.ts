// The command table: every query command, one line each. The CLI's subcommands, the hub's
// GET /api/v1/commands and POST /api/v1/commands/NAME (and later Discord, Slack and MCP) are
// generated from this list. A second entry with a name already taken throws at load.
import type { CommandDef } from './table.js';
import status from './status.js';
import best from './best.js';
import top from './top.js';
import inspect from './inspect.js';
import users from './users.js';
import queue from './queue.js';
import jobs from './jobs.js';
import history from './history.js';
import heatmap from './heatmap.js';
import report from './report.js';

export const COMMANDS: readonly CommandDef[] = register([status, best, top, inspect, users, queue, jobs, history, heatmap, report] as unknown as CommandDef[]);

function register(defs: CommandDef[]): CommandDef[] {
  const seen = new Set<string>();
  for (const d of defs) {
    if (seen.has(d.name)) throw new Error(`command "${d.name}" is registered twice`);
    seen.add(d.name);
  }
  return defs;
}

export function findCommand(name: string): CommandDef | undefined {
  return COMMANDS.find((c) => c.name === name);
}
