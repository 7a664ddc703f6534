// The hub's DataSource (commands/source.ts): its own nodes, SLURM view and index, in-process —
// the same functions that answer GET /api/v1/nodes, /api/v1/slurm and /api/v1/jobs — so a command
// asked through POST /api/v1/commands/NAME (and later a bot, the dashboard or MCP) answers exactly
// what the CLI computes from those endpoints.
import type { DataSource } from '../commands/source.js';
import type { HubApi } from './http/server.js';

export const SLURM_OFF = 'SLURM is off in this hub ([slurm] enabled = false, or no squeue on its PATH)';

export function createHubSource(api: Pick<HubApi, 'nodes' | 'slurm' | 'jobs' | 'nodeHistory' | 'history'>, selfUrl: () => string | null): DataSource {
  return {
    async nodes(q) {
      const r = api.nodes({ ...(q.busy !== undefined ? { busyLimit: q.busy } : {}) });
      return { ok: true, where: { source: 'hub', hub: selfUrl(), generated: r.generated }, nodes: r.nodes };
    },
    async slurm() {
      const view = api.slurm?.() ?? null;
      const hub = selfUrl();
      // As the CLI says it of a hub's 404 on /api/v1/slurm.
      if (view === null) return { ok: false, why: `the hub at ${hub} has SLURM off` };
      return { ok: true, slurm: { where: { source: 'hub', hub, generated: view.generated }, view, source: `from the hub at ${hub}`, live: false } };
    },
    async slurmAvailable() {
      return (api.slurm?.() ?? null) !== null;
    },
    async nodeHistory(host, q) {
      const samples = api.nodeHistory(host, { resolutionSeconds: q.resolutionSeconds, sinceMs: Date.now() - q.hours * 3_600_000 }) as Record<string, unknown>[];
      return { ok: true, where: { source: 'hub', hub: selfUrl(), generated: new Date().toISOString() }, samples };
    },
    async history(q) {
      if (!api.history) return { ok: false, why: 'this hub keeps no history' };
      return { ok: true, where: { source: 'hub', hub: selfUrl(), generated: new Date().toISOString() }, data: api.history(q) };
    },
    async jobs(q) {
      return { ok: true, where: { source: 'hub', hub: selfUrl(), generated: new Date().toISOString() }, jobs: api.jobs(q) };
    },
  };
}
