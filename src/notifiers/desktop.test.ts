// Desktop: notify-send argv, missing binary, session detection, no binary from a URL.
import { describe, expect, it } from 'vitest';
import { ConfigError, DeliveryError } from '../lib/errors.js';
import { normalMessage } from '../../test/support/stress-message.js';
import { createDesktopNotifier, notifySendArgs } from './desktop.js';
import { parseDestination } from './registry.js';

describe('desktop notifier', () => {
  it('builds a safe argv: options end before the title, markup is escaped', () => {
    const args = notifySendArgs({ ...normalMessage(), title: '--version', summary: 'a <b>bold</b> & claim' });
    expect(args.slice(0, 4)).toEqual(['--app-name=flurm', '--urgency=critical', '--', '--version']);
    expect(args[4]).toContain('a &lt;b&gt;bold&lt;/b&gt; &amp; claim');
    expect(args[4]!.length).toBeLessThanOrEqual(700);
  });

  it('a missing notify-send is permanent, with the package to install', async () => {
    const d = createDesktopNotifier({ notifySend: '/nonexistent/notify-send', env: { DISPLAY: ':0' } }).parse(new URL('desktop://'));
    const err = (await d.send(normalMessage(), { timeoutMs: 2000 }).catch((e: unknown) => e)) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/command not found.*libnotify/);
  });

  it('a Wayland-only or D-Bus-only session counts as a session', async () => {
    for (const env of [{ WAYLAND_DISPLAY: 'wayland-0' }, { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' }]) {
      const d = createDesktopNotifier({ notifySend: '/bin/true', env }).parse(new URL('desktop://'));
      await expect(d.send(normalMessage(), { timeoutMs: 2000 })).resolves.toBeUndefined();
    }
  });

  it.each(['desktop://host', 'desktop:///path', 'desktop://?bin=/bin/sh'])('%s is refused (no binary from a URL)', (input) => {
    expect(() => parseDestination(input)).toThrow(ConfigError);
  });
});
