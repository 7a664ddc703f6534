// Console: prints the plain-text rendering. `console://` (or console://stdout) writes to stdout,
// `console://stderr` to stderr. For `flurm up` on one workstation, and for trying routes out.
import type { Writable } from 'node:stream';
import { renderText } from '../frontends/text/render.js';
import { DeliveryError } from '../lib/errors.js';
import type { Message } from '../model/message.js';
import type { Destination, Notifier } from './types.js';
import { configError, pathSegments, readQuery } from './url-helpers.js';

const KIND = 'console';

export interface ConsoleNotifierOptions {
  stdout?: Writable;
  stderr?: Writable;
}

const SEPARATOR = '─'.repeat(40);

export function createConsoleNotifier(opts: ConsoleNotifierOptions = {}): Notifier {
  const streamFor = (which: 'stdout' | 'stderr'): Writable => (which === 'stderr' ? (opts.stderr ?? process.stderr) : (opts.stdout ?? process.stdout));
  const parse = (url: URL): Destination => {
    const target = url.hostname || 'stdout';
    if (target !== 'stdout' && target !== 'stderr') throw configError(KIND, `unknown stream "${target}" (expected console:// or console://stderr)`);
    if (pathSegments(url).length || url.port || url.username) throw configError(KIND, 'expected console:// or console://stderr');
    readQuery(KIND, url, []);
    return {
      kind: KIND,
      toUrl: () => (target === 'stderr' ? 'console://stderr' : 'console://'),
      send: (message: Message) =>
        new Promise<void>((resolve, reject) => {
          const text = `${SEPARATOR}\n${renderText(message)}\n`;
          const stream = streamFor(target);
          // A failed write also emits 'error' on the stream (EPIPE when the reader went away);
          // without a listener that would crash the process. once() consumes it.
          const onError = () => {};
          stream.once('error', onError);
          stream.write(text, (err) => {
            if (err) {
              reject(new DeliveryError(`cannot write to ${target}: ${err.message}`, { retryable: false, cause: err }));
            } else {
              stream.off('error', onError);
              resolve();
            }
          });
        }),
    };
  };
  return { name: KIND, schemes: ['console'], help: 'console:// (stdout) or console://stderr', parse };
}

export const consoleNotifier: Notifier = createConsoleNotifier();
