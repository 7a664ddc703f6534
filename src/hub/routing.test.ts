import { describe, expect, it } from 'vitest';
import { EVENT_KINDS, routeEvent, type EventKind, type RoutingPolicy } from './routing.js';
import { validateUserConfig, routeSchema } from '../config/schema.js';

const canonical = (u: string) => u.replace(/\/$/, '');
const routes = [
  routeSchema.parse({ on: ['failure'], to: ['discord://1/fail'] }),
  routeSchema.parse({ on: ['success'], to: ['slack://T/B/ok'], min_minutes: 10 }),
  routeSchema.parse({ on: ['all'], to: ['json://lab/all'], users: ['alice'] }),
];
const lab: RoutingPolicy = { routes, fallback: ['console://'], canonical };
const upPolicy: RoutingPolicy = { routes: [], fallback: ['console://', 'desktop://'], canonical };

describe('routing: hand-written cases', () => {
  it('sends successes and failures to different lab channels', () => {
    const u = validateUserConfig({});
    expect(routeEvent({ user: 'bob', kind: 'failure', wallSeconds: 5, explicitTo: [] }, lab, u)).toEqual(['discord://1/fail']);
    expect(routeEvent({ user: 'bob', kind: 'success', wallSeconds: 3600, explicitTo: [] }, lab, u)).toEqual(['slack://T/B/ok']);
    expect(routeEvent({ user: 'bob', kind: 'vanished', wallSeconds: null, explicitTo: [] }, lab, u)).toEqual(['discord://1/fail']);
  });

  it('drops short successes on a route with min_minutes, never failures', () => {
    const u = validateUserConfig({});
    expect(routeEvent({ user: 'bob', kind: 'success', wallSeconds: 60, explicitTo: [] }, lab, u)).toEqual([]);
    expect(routeEvent({ user: 'bob', kind: 'failure', wallSeconds: 1, explicitTo: [] }, lab, u)).toEqual(['discord://1/fail']);
  });

  it('honours users filters on routes', () => {
    const u = validateUserConfig({});
    expect(routeEvent({ user: 'alice', kind: 'failure', wallSeconds: 1, explicitTo: [] }, lab, u)).toEqual(['discord://1/fail', 'json://lab/all']);
    expect(routeEvent({ user: 'alice', kind: 'note', wallSeconds: null, explicitTo: [] }, lab, u)).toEqual(['json://lab/all']);
  });

  it('under flurm up, only_failures still tells of a failure on the console (the reported bug)', () => {
    const u = validateUserConfig({ only_failures: true });
    expect(routeEvent({ user: 'bob', kind: 'failure', wallSeconds: 5, explicitTo: [] }, upPolicy, u)).toEqual(['console://', 'desktop://']);
    expect(routeEvent({ user: 'bob', kind: 'success', wallSeconds: 5, explicitTo: [] }, upPolicy, u)).toEqual([]);
  });

  it('under flurm up, min_minutes filters short successes from the console too (the reported bug)', () => {
    const u = validateUserConfig({ min_minutes: 30 });
    expect(routeEvent({ user: 'bob', kind: 'success', wallSeconds: 60, explicitTo: [] }, upPolicy, u)).toEqual([]);
    expect(routeEvent({ user: 'bob', kind: 'success', wallSeconds: 3600, explicitTo: [] }, upPolicy, u)).toEqual(['console://', 'desktop://']);
    expect(routeEvent({ user: 'bob', kind: 'failure', wallSeconds: 60, explicitTo: [] }, upPolicy, u)).toEqual(['console://', 'desktop://']);
  });

  it('mute keeps only --to; --to always wins', () => {
    const mute = validateUserConfig({ to: ['ntfy://me'], mute: true });
    expect(routeEvent({ user: 'bob', kind: 'failure', wallSeconds: 1, explicitTo: ['json://x/y'] }, lab, mute)).toEqual(['json://x/y']);
    expect(routeEvent({ user: 'bob', kind: 'failure', wallSeconds: 1, explicitTo: [] }, upPolicy, mute)).toEqual([]);
  });

  it('sends once to a destination named twice (by canonical form)', () => {
    const u = validateUserConfig({ to: ['discord://1/fail/'] });
    expect(routeEvent({ user: 'bob', kind: 'failure', wallSeconds: 1, explicitTo: ['discord://1/fail'] }, lab, u)).toEqual(['discord://1/fail']);
  });
});

// Every combination, against the rules as docs/config.md states them (not against the code):
// --to always; mute → nothing else; only_failures / min_minutes drop successes (only) from
// everything else; then the user's `to`, matching lab routes, or — when the hub has no
// destination for anyone and the event names none — the fallback.
describe('routing: every combination', () => {
  type Setup = 'user-to' | 'lab-routes' | 'fallback';
  const SETUPS: Setup[] = ['user-to', 'lab-routes', 'fallback'];
  const DURATIONS: [string, number | null][] = [['short', 120], ['long', 7200], ['unknown', null]];
  const labOnly: RoutingPolicy = {
    routes: [routeSchema.parse({ on: ['failure'], to: ['discord://lab/fail'] }), routeSchema.parse({ on: ['success', 'note'], to: ['slack://T/B/ok'] })],
    fallback: ['console://'],
    canonical,
  };
  const policyFor = (s: Setup): RoutingPolicy => (s === 'lab-routes' ? labOnly : { routes: [], fallback: ['console://'], canonical });
  const destsFor = (s: Setup, kind: EventKind, explicit: boolean): string[] => {
    if (s === 'user-to') return ['ntfy://me'];
    if (s === 'lab-routes') return kind === 'failure' || kind === 'vanished' ? ['discord://lab/fail'] : ['slack://T/B/ok'];
    return explicit ? [] : ['console://'];
  };

  const cases: [string, () => void][] = [];
  for (const kind of EVENT_KINDS)
    for (const onlyFailures of [false, true])
      for (const minMinutes of [0, 30])
        for (const [durName, wall] of DURATIONS)
          for (const mute of [false, true])
            for (const explicit of [false, true])
              for (const setup of SETUPS) {
                const name = `${kind} ${durName} only_failures=${onlyFailures} min_minutes=${minMinutes} mute=${mute} --to=${explicit} ${setup}`;
                cases.push([
                  name,
                  () => {
                    const user = validateUserConfig({ to: setup === 'user-to' ? ['ntfy://me'] : [], only_failures: onlyFailures, min_minutes: minMinutes, mute });
                    const explicitTo = explicit ? ['json://job/to'] : [];
                    const got = routeEvent({ user: 'bob', kind, wallSeconds: wall, explicitTo }, policyFor(setup), user);
                    const expected = [...explicitTo];
                    const successDropped = kind === 'success' && (onlyFailures || (minMinutes > 0 && wall !== null && wall < minMinutes * 60));
                    if (!mute && !successDropped) expected.push(...destsFor(setup, kind, explicit));
                    expect(got, name).toEqual(expected);
                  },
                ]);
              }

  it('kind × only_failures × min_minutes × duration × mute × --to × user to / lab routes / fallback', () => {
    for (const [, run] of cases) run();
  });

  it('a failure or a vanished job always reaches someone unless muted', () => {
    for (const kind of ['failure', 'vanished'] as const)
      for (const setup of SETUPS) {
        const user = validateUserConfig({ to: setup === 'user-to' ? ['ntfy://me'] : [], only_failures: true, min_minutes: 600 });
        expect(routeEvent({ user: 'bob', kind, wallSeconds: 1, explicitTo: [] }, policyFor(setup), user).length, `${kind} ${setup}`).toBeGreaterThan(0);
      }
  });
});

describe('routing: Discord DMs and "Mute 1 h"', () => {
  const personal = (u: string) => new Map([['discord:dm', u === 'alice' ? 'discord-dm://111111111111111111' : null]]);
  const withBot: RoutingPolicy = { ...upPolicy, personal, mutedNow: (u) => u === 'muted' };
  const labBot: RoutingPolicy = { ...lab, personal };

  it('a linked user with no `to` gets DMs instead of the fallback; an unlinked one keeps the fallback', () => {
    const u = validateUserConfig({});
    expect(routeEvent({ user: 'alice', kind: 'success', wallSeconds: 5, explicitTo: [] }, withBot, u)).toEqual(['discord-dm://111111111111111111']);
    expect(routeEvent({ user: 'bob', kind: 'success', wallSeconds: 5, explicitTo: [] }, withBot, u)).toEqual(['console://', 'desktop://']);
  });

  it('a linked user gets the DM beside the lab routes', () => {
    const u = validateUserConfig({});
    expect(routeEvent({ user: 'alice', kind: 'failure', wallSeconds: 5, explicitTo: [] }, labBot, u)).toEqual(['discord-dm://111111111111111111', 'discord://1/fail', 'json://lab/all']);
  });

  it('discord:dm in `to` is the DM beside other destinations, once; unlinked it is dropped', () => {
    const u = validateUserConfig({ to: ['discord:dm', 'ntfy://me', 'DISCORD:DM'] });
    expect(routeEvent({ user: 'alice', kind: 'success', wallSeconds: 5, explicitTo: [] }, withBot, u)).toEqual(['discord-dm://111111111111111111', 'ntfy://me']);
    expect(routeEvent({ user: 'bob', kind: 'success', wallSeconds: 5, explicitTo: [] }, withBot, u)).toEqual(['ntfy://me']);
  });

  it('a user\'s own filters apply to DMs like to any destination', () => {
    const u = validateUserConfig({ only_failures: true });
    expect(routeEvent({ user: 'alice', kind: 'success', wallSeconds: 5, explicitTo: [] }, withBot, u)).toEqual([]);
    expect(routeEvent({ user: 'alice', kind: 'failure', wallSeconds: 5, explicitTo: [] }, withBot, u)).toEqual(['discord-dm://111111111111111111']);
  });

  it('"Mute 1 h" holds everything but the job\'s own --to', () => {
    const u = validateUserConfig({ to: ['ntfy://me'] });
    expect(routeEvent({ user: 'muted', kind: 'failure', wallSeconds: 5, explicitTo: ['json://x/y'] }, withBot, u)).toEqual(['json://x/y']);
  });
});

describe('routing: Slack DMs', () => {
  const both: RoutingPolicy = {
    ...upPolicy,
    personal: (u) =>
      new Map([
        ['discord:dm', u === 'alice' ? 'discord-dm://111111111111111111' : null],
        ['slack:dm', u === 'alice' || u === 'bob' ? `slack-dm://u0${u}` : null],
      ]),
  };

  it('a user linked in both chats with no `to` gets both DMs; in one, that one', () => {
    const u = validateUserConfig({});
    expect(routeEvent({ user: 'alice', kind: 'failure', wallSeconds: 5, explicitTo: [] }, both, u)).toEqual(['discord-dm://111111111111111111', 'slack-dm://u0alice']);
    expect(routeEvent({ user: 'bob', kind: 'failure', wallSeconds: 5, explicitTo: [] }, both, u)).toEqual(['slack-dm://u0bob']);
  });

  it('slack:dm in `to` picks the Slack DM only', () => {
    const u = validateUserConfig({ to: ['slack:dm'] });
    expect(routeEvent({ user: 'alice', kind: 'success', wallSeconds: 5, explicitTo: [] }, both, u)).toEqual(['slack-dm://u0alice']);
  });
});
