import { describe, expect, it } from 'vitest';
import { routeEvent } from './routing.js';
import { validateUserConfig, routeSchema } from '../config/schema.js';

const id = (u: string) => u.replace(/\/$/, '');
const routes = [
  routeSchema.parse({ on: ['failure'], to: ['discord://1/fail'] }),
  routeSchema.parse({ on: ['success'], to: ['slack://T/B/ok'], min_minutes: 10 }),
  routeSchema.parse({ on: ['all'], to: ['json://lab/all'], users: ['alice'] }),
];

describe('routing', () => {
  it('sends successes and failures to different lab channels', () => {
    const u = validateUserConfig({});
    expect(routeEvent({ user: 'bob', outcome: 'failure', wallSeconds: 5, explicitTo: [] }, routes, u, id)).toEqual(['discord://1/fail']);
    expect(routeEvent({ user: 'bob', outcome: 'success', wallSeconds: 3600, explicitTo: [] }, routes, u, id)).toEqual(['slack://T/B/ok']);
  });

  it('drops short successes on a route with min_minutes, never failures', () => {
    const u = validateUserConfig({});
    expect(routeEvent({ user: 'bob', outcome: 'success', wallSeconds: 60, explicitTo: [] }, routes, u, id)).toEqual([]);
    expect(routeEvent({ user: 'bob', outcome: 'failure', wallSeconds: 1, explicitTo: [] }, routes, u, id)).toEqual(['discord://1/fail']);
  });

  it('honours users filters on routes', () => {
    const u = validateUserConfig({});
    expect(routeEvent({ user: 'alice', outcome: 'failure', wallSeconds: 1, explicitTo: [] }, routes, u, id)).toEqual(['discord://1/fail', 'json://lab/all']);
  });

  it('applies the user\'s only_failures, min_minutes and mute; --to always wins', () => {
    const onlyFail = validateUserConfig({ to: ['ntfy://me'], only_failures: true });
    expect(routeEvent({ user: 'bob', outcome: 'success', wallSeconds: 9999, explicitTo: [] }, routes, onlyFail, id)).toEqual([]);
    expect(routeEvent({ user: 'bob', outcome: 'failure', wallSeconds: 1, explicitTo: [] }, routes, onlyFail, id)).toEqual(['ntfy://me', 'discord://1/fail']);
    const long = validateUserConfig({ to: ['ntfy://me'], min_minutes: 30 });
    expect(routeEvent({ user: 'bob', outcome: 'success', wallSeconds: 600, explicitTo: [] }, [], long, id)).toEqual([]);
    expect(routeEvent({ user: 'bob', outcome: 'failure', wallSeconds: 600, explicitTo: [] }, [], long, id)).toEqual(['ntfy://me']);
    const mute = validateUserConfig({ to: ['ntfy://me'], mute: true });
    expect(routeEvent({ user: 'bob', outcome: 'failure', wallSeconds: 1, explicitTo: ['json://x/y'] }, routes, mute, id)).toEqual(['json://x/y']);
  });

  it('sends once to a destination named twice (by canonical form)', () => {
    const u = validateUserConfig({ to: ['discord://1/fail/'] });
    expect(routeEvent({ user: 'bob', outcome: 'failure', wallSeconds: 1, explicitTo: ['discord://1/fail'] }, routes, u, id)).toEqual(['discord://1/fail']);
  });
});
