// A local SMTP server (smtp-server) that parses what it receives (mailparser), for e-mail tests.
//
//   const sink = await startSmtpSink();                  // 127.0.0.1, a free port, no TLS
//   parseDestination(sink.url({ to: 'alice@lab.example' }));
//   sink.rejectNext({ code: 550, message: 'No such user' });   // next RCPT TO answered 550
//   sink.rejectNext({ code: 451, stage: 'data' });            // next DATA answered 451
//   sink.hangNext();                                           // next MAIL FROM never answered
//   await sink.waitFor((m) => m.subject.includes('failed'), 2000);
//   await sink.close();
//
// Options: auth ({ user, pass }: AUTH PLAIN/LOGIN required, wrong password → 535), starttls (offer
// STARTTLS with smtp-server's built-in self-signed certificate), secure (implicit TLS, for
// smtps://). With TLS the client must be told to accept that certificate (tests pass
// `tls: { rejectUnauthorized: false }` to createEmailNotifier). Each message records whether it
// arrived over TLS (`secure`) and the login used.
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  headers: Map<string, unknown>;
  raw: string;
  /** The session was TLS (STARTTLS or implicit). */
  secure: boolean;
  /** The user that logged in, if any. */
  user?: string;
}

export interface SmtpRejection {
  code: number;
  message?: string;
  /** Where to refuse: MAIL FROM, RCPT TO (default) or after DATA. */
  stage?: 'mail' | 'rcpt' | 'data';
}

export interface SmtpSink {
  host: string;
  port: number;
  messages: ReceivedMail[];
  /** smtp:// (or smtps:// when secure) URL for this sink. */
  url(opts?: { from?: string; to?: string; user?: string; pass?: string }): string;
  rejectNext(r: SmtpRejection, times?: number): void;
  hangNext(): void;
  waitFor(predicate: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  auth?: { user: string; pass: string };
  starttls?: boolean;
  secure?: boolean;
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const rejections: SmtpRejection[] = [];
  let hangs = 0;
  const waiters = new Set<{ predicate: (m: ReceivedMail) => boolean; resolve: (m: ReceivedMail) => void }>();

  const take = (stage: 'mail' | 'rcpt' | 'data') => {
    const i = rejections.findIndex((r) => (r.stage ?? 'rcpt') === stage);
    return i >= 0 ? rejections.splice(i, 1)[0] : undefined;
  };
  const smtpError = (r: SmtpRejection) => Object.assign(new Error(r.message ?? (r.code >= 500 ? 'Rejected' : 'Try again later')), { responseCode: r.code });

  const server = new SMTPServer({
    secure: !!opts.secure,
    hideSTARTTLS: !opts.starttls && !opts.secure,
    disabledCommands: opts.starttls || opts.secure ? (opts.auth ? [] : ['AUTH']) : opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    logger: false,
    closeTimeout: 200,
    banner: 'flurm test sink',
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) return cb(null, { user: auth.username });
      cb(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
    onMailFrom(_address, _session, cb) {
      if (hangs > 0) {
        hangs--;
        return; // never answer: the client's timeout must fire
      }
      const r = take('mail');
      cb(r ? smtpError(r) : null);
    },
    onRcptTo(_address, _session, cb) {
      const r = take('rcpt');
      cb(r ? smtpError(r) : null);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const r = take('data');
        if (r) return cb(smtpError(r));
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then(
          (parsed) => {
            const mail: ReceivedMail = {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((a) => a.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              headers: parsed.headers as Map<string, unknown>,
              raw,
              secure: session.secure,
              user: session.user as string | undefined,
            };
            messages.push(mail);
            for (const w of [...waiters]) if (w.predicate(mail)) {
              waiters.delete(w);
              w.resolve(mail);
            }
            cb();
          },
          (err: Error) => cb(err),
        );
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // smtp-server logs socket errors of clients that vanish (timeouts in tests): keep them quiet.
  server.on('error', () => {});
  const port = (server.server.address() as AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    messages,
    url({ from = 'flurm@lab.example', to = 'alice@lab.example', user, pass } = {}) {
      const auth = user ? `${encodeURIComponent(user)}${pass !== undefined ? ':' + encodeURIComponent(pass) : ''}@` : '';
      const qs = new URLSearchParams({ from, to }).toString().replace(/%40/g, '@').replace(/%2C/gi, ',');
      return `${opts.secure ? 'smtps' : 'smtp'}://${auth}127.0.0.1:${port}?${qs}`;
    },
    rejectNext(r, times = 1) {
      for (let i = 0; i < times; i++) rejections.push(r);
    },
    hangNext() {
      hangs++;
    },
    waitFor(predicate, timeoutMs = 5000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = {
          predicate,
          resolve: (m: ReceivedMail) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`smtp sink: no matching message within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
