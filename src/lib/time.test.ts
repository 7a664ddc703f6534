// Human-readable times: local wall clock with the zone named, pinned to fixed zones and TZ.
import { afterEach, describe, expect, it } from 'vitest';
import { formatLocalTime, localTimeZone, timeZoneName } from './time.js';

const WINTER = '2026-12-01T13:03:27.512Z';
const SUMMER = '2026-07-01T12:03:00Z';

describe('formatLocalTime', () => {
  const savedTz = process.env.TZ;
  afterEach(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  it('shows the wall-clock time in the zone, with the zone named', () => {
    expect(formatLocalTime(WINTER, { timeZone: 'Europe/Berlin' })).toBe('2026-12-01 14:03 CET');
    expect(formatLocalTime(SUMMER, { timeZone: 'Europe/Berlin' })).toBe('2026-07-01 14:03 CEST');
    expect(formatLocalTime(WINTER, { timeZone: 'UTC' })).toBe('2026-12-01 13:03 UTC');
    expect(formatLocalTime(WINTER, { timeZone: 'America/New_York' })).toBe('2026-12-01 08:03 EST');
    expect(formatLocalTime(SUMMER, { timeZone: 'Europe/London' })).toBe('2026-07-01 13:03 BST');
    expect(formatLocalTime(WINTER, { timeZone: 'Asia/Tokyo' })).toBe('2026-12-01 22:03 GMT+9');
    expect(formatLocalTime(WINTER, { timeZone: 'Asia/Kolkata' })).toBe('2026-12-01 18:33 GMT+5:30');
  });

  it('crosses midnight and takes epoch ms and Dates too', () => {
    expect(formatLocalTime(Date.parse('2026-12-31T23:30:00Z'), { timeZone: 'Europe/Berlin' })).toBe('2027-01-01 00:30 CET');
    expect(formatLocalTime(new Date('2026-12-01T00:05:00Z'), { timeZone: 'UTC' })).toBe('2026-12-01 00:05 UTC');
  });

  it('defaults to TZ (the reader’s zone; on the hub, the hub’s)', () => {
    process.env.TZ = 'Europe/Berlin';
    expect(localTimeZone()).toBe('Europe/Berlin');
    expect(formatLocalTime(WINTER)).toBe('2026-12-01 14:03 CET');
    process.env.TZ = 'UTC';
    expect(formatLocalTime(WINTER)).toBe('2026-12-01 13:03 UTC');
  });

  it('an unreadable time is "?"; an unknown zone falls back to UTC', () => {
    expect(formatLocalTime('yesterday', { timeZone: 'UTC' })).toBe('?');
    expect(formatLocalTime(WINTER, { timeZone: 'Mars/Olympus' })).toBe('2026-12-01 13:03 UTC');
    expect(timeZoneName(new Date(WINTER), 'Etc/UTC')).toBe('UTC');
  });
});
