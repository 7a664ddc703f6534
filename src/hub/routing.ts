// Who hears about an event: a pure function of the event, the lab's routes (hub config) and the
// user's own config.toml. Explicit `flurm run --to` destinations always apply, even when muted.
import type { Route, UserConfig } from '../config/schema.js';

export type EventOutcome = 'success' | 'failure' | 'note';

export interface RoutingInput {
  user: string;
  outcome: EventOutcome;
  /** Job duration, for min_minutes filters (null when unknown). */
  wallSeconds: number | null;
  /** Destinations given on this job or note itself (--to). */
  explicitTo: readonly string[];
}

/**
 * The destination URLs for an event, de-duplicated by `canonical` (parse + toUrl, given by the
 * caller so this stays pure). Failures are never filtered by duration; notes are never filtered.
 */
export function routeEvent(
  input: RoutingInput,
  routes: readonly Route[],
  user: UserConfig,
  canonical: (url: string) => string,
): string[] {
  const out = new Map<string, string>();
  const add = (u: string) => {
    const c = canonical(u);
    if (!out.has(c)) out.set(c, u);
  };
  for (const u of input.explicitTo) add(u);
  if (user.mute) return [...out.values()];

  const isSuccess = input.outcome === 'success';
  const minutes = input.wallSeconds == null ? null : input.wallSeconds / 60;
  const tooShort = (min: number) => isSuccess && min > 0 && minutes != null && minutes < min;

  if (isSuccess && user.only_failures) return [...out.values()];
  if (tooShort(user.min_minutes)) return [...out.values()];

  for (const u of user.to) add(u);
  for (const r of routes) {
    if (r.users && !r.users.includes(input.user)) continue;
    if (!r.on.includes('all') && !r.on.includes(input.outcome)) continue;
    if (tooShort(r.min_minutes)) continue;
    for (const u of r.to) add(u);
  }
  return [...out.values()];
}
