// `inspect node [live]`: one node in full — jobs and owners, idle since, GPUs and their holders.
// With `live` (the CLI only: it needs the person's own ssh) the node is asked afresh and merged
// with the hub's jobs for it when a hub answers.
import { z } from 'zod';
import { UserError } from '../lib/errors.js';
import type { NodeView } from '../model/node-view.js';
import { hostName } from './args.js';
import { clockOf } from './clock.js';
import { inspect as nodeInspect } from './node-inspect.js';
import { CommandArgsError, defineCommand } from './table.js';

export default defineCommand({
  name: 'inspect',
  description: 'one node in full: jobs and owners, idle since, GPUs and their holders',
  args: z.object({
    node: hostName('host name'),
    live: z.boolean().describe('ask the node afresh over your own ssh (BatchMode, with a timeout)').optional(),
  }),
  cli: { positional: ['node'], only: ['live'], maxCellChars: 80 },
  async run({ node, live }, source, ctx) {
    if (live) {
      if (!source.liveNode) throw new CommandArgsError('inspect', [{ field: 'live', message: 'only the CLI can ask a node afresh (over your own ssh)' }]);
      const [hub, snapshot] = await Promise.all([source.nodes({ hubOnly: true }), source.liveNode(node)]);
      if (!hub.ok && hub.fatal) ctx.warn(`${hub.why}; the node's flurm jobs are unknown`);
      const short = (h: string) => h.split('.')[0];
      const list = hub.ok ? hub.nodes : [];
      const known =
        list.find((n) => n.host === node || n.host === snapshot.host) ?? list.find((n) => short(n.host) === short(node) || short(n.host) === short(snapshot.host));
      const view: NodeView = { host: known?.host ?? snapshot.host, state: 'fresh', age_seconds: 0, snapshot, jobs: known?.jobs ?? [], idle_since: known?.idle_since ?? null };
      const where = { source: 'live' as const, hub: hub.ok ? hub.where.hub : null, generated: new Date().toISOString() };
      const m = nodeInspect([view], { node: view.host, live: true, jobs_known: hub.ok }, clockOf(where));
      return { messages: [m], result: { ...m.data }, where, exitCode: 0 };
    }
    const n = await source.nodes({});
    if (!n.ok) throw new UserError(n.why);
    const m = nodeInspect(n.nodes, { node, jobs_known: n.where.source === 'hub' }, clockOf(n.where));
    return { messages: [m], result: { ...m.data }, where: n.where, exitCode: 0 };
  },
});
