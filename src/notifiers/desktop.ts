// Desktop notifications through `notify-send` (libnotify), run via lib/exec.ts. URL: desktop://
// Works only where a desktop session is reachable (DISPLAY, WAYLAND_DISPLAY or
// DBUS_SESSION_BUS_ADDRESS set for the process that sends); without one, sending fails with a
// permanent DeliveryError saying so. The binary and environment are injectable for tests.
import { renderText } from '../frontends/text/render.js';
import { DeliveryError, ExecError } from '../lib/errors.js';
import { execCommand } from '../lib/exec.js';
import { truncate } from '../lib/format.js';
import type { Message, Severity } from '../model/message.js';
import type { Destination, Notifier, SendContext } from './types.js';
import { configError, pathSegments, readQuery } from './url-helpers.js';

const KIND = 'desktop';
const BODY_MAX_CHARS = 600;
const SESSION_VARS = ['DISPLAY', 'WAYLAND_DISPLAY', 'DBUS_SESSION_BUS_ADDRESS'] as const;
const URGENCY: Record<Severity, string> = { failure: 'critical', warning: 'normal', success: 'normal', info: 'low' };

export interface DesktopNotifierOptions {
  /** The notify-send binary (default: "notify-send" on PATH). */
  notifySend?: string;
  /** Environment to check for a session and to run notify-send with (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Notification servers may interpret a small HTML-like markup in the body: escape it. */
function escapeMarkup(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The argv notify-send gets for a message (exported for tests and `flurm doctor`). */
export function notifySendArgs(m: Message): string[] {
  const body = escapeMarkup(renderText(m, { title: false, maxChars: BODY_MAX_CHARS }));
  const title = truncate(m.title.replace(/\s+/g, ' ').trim(), 200) || 'flurm';
  // "--" ends the options: a title starting with "-" is still a title.
  return ['--app-name=flurm', `--urgency=${URGENCY[m.severity]}`, '--', title, ...(body ? [body] : [])];
}

export function createDesktopNotifier(opts: DesktopNotifierOptions = {}): Notifier {
  const bin = opts.notifySend ?? 'notify-send';
  const parse = (url: URL): Destination => {
    if (url.host || pathSegments(url).length || url.username) throw configError(KIND, 'expected desktop:// (it takes no host or path)');
    readQuery(KIND, url, []);
    return {
      kind: KIND,
      toUrl: () => 'desktop://',
      async send(message: Message, ctx: SendContext): Promise<void> {
        const env = opts.env ?? process.env;
        if (!SESSION_VARS.some((v) => env[v])) {
          throw new DeliveryError(
            `no desktop session here (${SESSION_VARS.join(', ')} are unset), so desktop:// cannot show a notification; use it only with flurm up on a workstation you are logged in to`,
            { retryable: false },
          );
        }
        try {
          await execCommand(bin, notifySendArgs(message), { timeoutMs: ctx.timeoutMs, maxOutputBytes: 64 * 1024, env });
        } catch (err) {
          if (!(err instanceof ExecError)) throw err;
          if (err.details.timedOut) throw new DeliveryError(`notify-send did not finish within ${ctx.timeoutMs} ms`, { retryable: true, cause: err });
          if (err.details.exitCode === undefined && err.details.signal === undefined) {
            // It could not start at all (not installed): no retry will fix that.
            throw new DeliveryError(`${err.message}; install libnotify-bin (Debian/Ubuntu) or libnotify`, { retryable: false, cause: err });
          }
          throw new DeliveryError(`notify-send failed: ${err.message}`, { retryable: true, cause: err });
        }
      },
    };
  };
  return { name: KIND, schemes: ['desktop'], help: 'desktop:// (notify-send; needs a desktop session on the sending host)', parse };
}

export const desktopNotifier: Notifier = createDesktopNotifier();
