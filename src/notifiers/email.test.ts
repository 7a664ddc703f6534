// E-mail against a real local SMTP server: STARTTLS, smtps, login, rejections, partial delivery.
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, DeliveryError } from '../lib/errors.js';
import { startSmtpSink, type SmtpSink } from '../../test/support/smtp-sink.js';
import { LAST_TAIL_LINE, hostileMessage, normalMessage } from '../../test/support/stress-message.js';
import { createEmailNotifier, renderEmailHtml } from './email.js';
import { parseDestination } from './registry.js';

// The sink's certificate is smtp-server's built-in self-signed one.
const trustingSink = createEmailNotifier({ tls: { rejectUnauthorized: false } });
const ctx = { timeoutMs: 5000 };

let sink: SmtpSink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function failure(p: Promise<void>): Promise<DeliveryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

describe('email URL forms', () => {
  it.each([
    ['smtp://mail.lab.example?from=f@lab.example&to=a@lab.example', 'smtp://mail.lab.example?from=f@lab.example&to=a@lab.example'],
    ['smtp://mail.lab.example:25?to=a@lab.example&from=f@lab.example&starttls=never', 'smtp://mail.lab.example:25?from=f@lab.example&to=a@lab.example&starttls=never'],
    ['smtp://me%40lab.example:pw@mail.lab.example?to=a@lab.example', 'smtp://me%40lab.example:pw@mail.lab.example?from=me@lab.example&to=a@lab.example'],
    ['smtps://mail.lab.example:2465?from=f@lab.example&to=a@lab.example, b@lab.example', 'smtps://mail.lab.example:2465?from=f@lab.example&to=a@lab.example,b@lab.example'],
  ])('%s → %s', (input, canonical) => {
    expect(parseDestination(input).toUrl()).toBe(canonical);
  });

  it.each([
    ['smtp://mail.lab.example?from=f@lab.example', /to= is missing/],
    ['smtp://mail.lab.example?to=a@lab.example', /from= is missing/],
    ['smtp://mail.lab.example?from=f@lab.example&to=alice', /"alice" is not an e-mail address/],
    ['smtp://mail.lab.example?from=f@lab.example&to=a@lab.example&starttls=maybe', /starttls= must be require or never/],
    ['smtps://mail.lab.example?from=f@lab.example&to=a@lab.example&starttls=require', /does not apply to smtps/],
    ['smtp://u:***@mail.lab.example?from=f@lab.example&to=a@lab.example', /redacted/],
    ['smtp://mail.lab.example/inbox?from=f@lab.example&to=a@lab.example', /unexpected path/],
  ])('%s is refused', (input, why) => {
    expect(() => parseDestination(input)).toThrow(ConfigError);
    expect(() => parseDestination(input)).toThrow(why);
  });
});

describe('email send', () => {
  it('sends subject, text and HTML parts; the log tail survives in both', async () => {
    sink = await startSmtpSink();
    await parseDestination(sink.url()).send(hostileMessage(), ctx);
    const mail = await sink.waitFor(() => true);
    expect(mail.subject.length).toBeLessThanOrEqual(200);
    expect(mail.subject.startsWith('TTT')).toBe(true);
    expect(mail.text).toContain(LAST_TAIL_LINE);
    expect(mail.html).toContain('FINAL LINE: Traceback ends here');
    expect(mail.secure).toBe(false);
  });

  it('gives the mail a stable Message-ID from the idempotency key, so a repeat is one thread entry', async () => {
    sink = await startSmtpSink();
    const dest = parseDestination(sink.url());
    await dest.send(normalMessage(), { ...ctx, idempotencyKey: 'flurm-0a1b2c' });
    await dest.send(normalMessage(), { ...ctx, idempotencyKey: 'flurm-0a1b2c' });
    await sink.waitFor(() => sink!.messages.length === 2);
    expect(sink.messages.map((m) => m.headers.get('message-id'))).toEqual(['<flurm-0a1b2c@flurm>', '<flurm-0a1b2c@flurm>']);
  });

  it('upgrades with STARTTLS when the server offers it, and logs in', async () => {
    sink = await startSmtpSink({ starttls: true, auth: { user: 'alice', pass: 's3cret' } });
    await trustingSink.parse(new URL(sink.url({ user: 'alice', pass: 's3cret' }))).send(normalMessage(), ctx);
    const mail = await sink.waitFor(() => true);
    expect(mail.secure).toBe(true);
    expect(mail.user).toBe('alice');
  });

  it('without trusting the certificate, STARTTLS fails instead of falling back to plain text', async () => {
    sink = await startSmtpSink({ starttls: true });
    const err = await failure(parseDestination(sink.url()).send(normalMessage(), ctx));
    expect(err.message).toMatch(/certificate/i);
    expect(err.retryable).toBe(false);
    expect(sink.messages).toHaveLength(0);
  });

  it('smtps:// speaks TLS from the first byte', async () => {
    sink = await startSmtpSink({ secure: true });
    await trustingSink.parse(new URL(sink.url())).send(normalMessage(), ctx);
    expect((await sink.waitFor(() => true)).secure).toBe(true);
  });

  it('starttls=require refuses a server that does not offer it', async () => {
    sink = await startSmtpSink();
    const err = await failure(parseDestination(`${sink.url()}&starttls=require`).send(normalMessage(), ctx));
    expect(err.message).toMatch(/STARTTLS/);
    expect(sink.messages).toHaveLength(0);
  });

  it('a wrong password (535) is permanent and the password never shows', async () => {
    sink = await startSmtpSink({ auth: { user: 'alice', pass: 's3cret' } });
    const err = await failure(parseDestination(sink.url({ user: 'alice', pass: 'wrong-pw' })).send(normalMessage(), ctx));
    expect(err).toMatchObject({ retryable: false, status: 535 });
    expect(err.message).toMatch(/refused the login/);
    expect(err.message).not.toContain('wrong-pw');
  });

  it('one rejected recipient of two: delivered to the other, reported, not retried (no duplicates)', async () => {
    sink = await startSmtpSink();
    sink.rejectNext({ code: 550, message: 'No such user' });
    const err = await failure(parseDestination(sink.url({ to: 'gone@lab.example,bob@lab.example' })).send(normalMessage(), ctx));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('gone@lab.example');
    expect((await sink.waitFor(() => true)).to).toEqual(['bob@lab.example']);
  });

  it('an unreachable server is retryable', async () => {
    sink = await startSmtpSink();
    const url = sink.url();
    await sink.close();
    sink = undefined;
    const err = await failure(parseDestination(url).send(normalMessage(), ctx));
    expect(err.retryable).toBe(true);
  });

  it('the HTML part escapes what the job printed', () => {
    const html = renderEmailHtml({ ...normalMessage(), logTail: ['<script>alert(1)</script> & more'] });
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    expect(html).not.toContain('<script>');
  });
});
