// Who hears about an event: ONE pure function of the event, the lab's routing policy (routes and
// the fallback, from the hub config) and the user's own config.toml. Every path that queues a
// message about a user's job or note calls it (job ends, notes, vanished jobs, node-down
// warnings, SLURM array tasks), so the rules cannot drift between them:
//
//   1. The event's own `--to` destinations always apply, even when muted or filtered.
//   2. `mute`: nothing else.
//   3. The user's filters — `only_failures` and `min_minutes` drop successes (never failures,
//      vanished jobs or notes) — apply to everything else: the user's `to`, the lab routes and
//      the fallback alike. "Only failures" never means "nothing".
//   4. The user's `to` and every lab route that matches (`on`, `users`, its own `min_minutes`).
//   5. The fallback (`flurm up`: console, desktop) stands in for the user's own destinations when
//      the hub has none for anyone (no lab route, no user `to`) and the event names none.
import type { Route, UserConfig } from '../config/schema.js';

/** What happened. `vanished` covers every "your job is in trouble" message; it routes like a failure. */
export type EventKind = 'success' | 'failure' | 'note' | 'vanished';
export const EVENT_KINDS: readonly EventKind[] = ['success', 'failure', 'note', 'vanished'];

export interface RoutingInput {
  user: string;
  kind: EventKind;
  /** Job duration, for min_minutes filters (null when unknown: never filtered). */
  wallSeconds: number | null;
  /** Destinations given on this job or note itself (--to). */
  explicitTo: readonly string[];
}

export interface RoutingPolicy {
  /** The lab's routes (hub config). */
  routes: readonly Route[];
  /** Destinations when the hub has none configured (flurm up: console, desktop). */
  fallback: readonly string[];
  /** A destination's canonical form (parse + toUrl), used to send once to a URL named twice. */
  canonical: (url: string) => string;
  /**
   * The user's personal chat destinations, by the alias a `to` list writes for each
   * (`discord:dm` → discord-dm://ID, `slack:dm` → slack-dm://ID); null where the user is not
   * linked there. An alias becomes its destination (or nothing), and a user with no `to` of their
   * own gets every one they have instead of the fallback.
   */
  personal?: (user: string) => ReadonlyMap<string, string | null>;
  /** True while the user pressed "Mute 1 h" (like `mute` in their config, for a while). */
  mutedNow?: (user: string) => boolean;
}

/** The route `on` value an event kind matches. */
function routeOutcome(kind: EventKind): 'success' | 'failure' | 'note' {
  return kind === 'vanished' ? 'failure' : kind;
}

/** True when the user's own filters drop this event (successes only). */
export function filteredByUser(input: Pick<RoutingInput, 'kind' | 'wallSeconds'>, user: Pick<UserConfig, 'only_failures' | 'min_minutes'>): boolean {
  if (input.kind !== 'success') return false;
  if (user.only_failures) return true;
  return tooShort(input.wallSeconds, user.min_minutes);
}

function tooShort(wallSeconds: number | null, minMinutes: number): boolean {
  return minMinutes > 0 && wallSeconds != null && wallSeconds / 60 < minMinutes;
}

/** The destination URLs for an event, each once (by canonical form), in a stable order. */
export function routeEvent(input: RoutingInput, policy: RoutingPolicy, user: UserConfig): string[] {
  const out = new Map<string, string>();
  const personal = policy.personal?.(input.user) ?? new Map<string, string | null>();
  const add = (u: string) => {
    const alias = u.trim().toLowerCase();
    if (personal.has(alias)) {
      const to = personal.get(alias);
      if (!to) return;
      u = to;
    }
    const c = policy.canonical(u);
    if (!out.has(c)) out.set(c, u);
  };
  for (const u of input.explicitTo) add(u);
  if (user.mute || policy.mutedNow?.(input.user)) return [...out.values()];
  if (filteredByUser(input, user)) return [...out.values()];

  const outcome = routeOutcome(input.kind);
  const dms = [...personal.values()].filter((x): x is string => x !== null);
  const own = user.to.length > 0 ? user.to : dms.length ? dms : policy.routes.length === 0 && input.explicitTo.length === 0 ? policy.fallback : [];
  for (const u of own) add(u);
  for (const r of policy.routes) {
    if (r.users && !r.users.includes(input.user)) continue;
    if (!r.on.includes('all') && !r.on.includes(outcome)) continue;
    if (input.kind === 'success' && tooShort(input.wallSeconds, r.min_minutes)) continue;
    for (const u of r.to) add(u);
  }
  return [...out.values()];
}
