// Alert emails: sent by smtplib to a fake SMTP server on 127.0.0.1 (even where salt.utils.smtp is importable:
// it has no timeout and does not verify STARTTLS), only for what verified messages cause, and rate-limited.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Config } from '../src/config/types.js';
import { type ReactorFixture, setupReactorFixture, verdictOf } from './helpers/reactor-fixture.js';
import { SUBSCRIBE_PATH_PREFIX } from './helpers/sns-vectors.js';

interface Mail {
  from: string;
  to: string[];
  data: string;
  auth?: string;
}

/** The message text as a mail client shows it (quoted-printable decoded). */
const text = (m: Mail) =>
  m.data.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));

/** Just enough SMTP (EHLO, STARTTLS when given a certificate, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) to receive
 * what smtplib sends. `starttls` counts the STARTTLS commands; `secured` the TLS handshakes that completed. */
async function startSmtp(tls?: { key: string; cert: string }) {
  const mails: Mail[] = [];
  const counts = { starttls: 0, secured: 0 };
  const sockets = new Set<Socket>();
  const serve = (s: Socket, greet: boolean) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {}); // a client that refuses our certificate hangs up mid-handshake
    let buf = '';
    let inData = false;
    let mail: Mail = { from: '', to: [], data: '' };
    if (greet) s.write('220 fake-smtp ready\r\n');
    s.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          mail.data = buf.slice(0, end);
          buf = buf.slice(end + 5);
          inData = false;
          mails.push(mail);
          mail = { from: '', to: [], data: '', auth: mail.auth };
          s.write('250 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'EHLO') s.write(`250-fake-smtp\r\n${tls ? '250-STARTTLS\r\n' : ''}250 AUTH PLAIN\r\n`);
        else if (verb === 'STARTTLS' && tls) {
          counts.starttls++;
          s.removeAllListeners('data');
          s.write('220 go ahead\r\n', () => {
            const secure = new TLSSocket(s, { isServer: true, ...tls });
            secure.on('secure', () => counts.secured++);
            serve(secure, false);
          });
          return;
        } else if (verb === 'HELO') s.write('250 fake-smtp\r\n');
        else if (verb === 'AUTH') {
          mail.auth = Buffer.from(line.split(' ')[2] ?? '', 'base64').toString('utf8');
          s.write('235 ok\r\n');
        } else if (verb === 'MAIL') {
          mail.from = line.slice(10);
          s.write('250 ok\r\n');
        } else if (verb === 'RCPT') {
          mail.to.push(line.slice(8));
          s.write('250 ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          s.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') {
          s.end('221 bye\r\n');
          return;
        } else s.write('250 ok\r\n');
      }
    });
  };
  const server: Server = createServer((s) => serve(s, true));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    mails,
    counts,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let fx: ReactorFixture;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let passwordFile: string;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  fx = await setupReactorFixture();
  smtp = await startSmtp();
  passwordFile = join(fx.dir, 'smtp-password');
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
});
afterAll(async () => {
  await smtp?.close();
  await fx?.close();
});

const withEmail = (c: Config) => {
  c.alerts.email = {
    smtp_host: '127.0.0.1',
    smtp_port: smtp.port,
    tls: false,
    from: 'salt-master@example.com',
    to: ['ops@example.com', 'oncall@example.com'],
    username: 'salt-master',
    password_file: passwordFile,
    subject: 'salt-autoscale',
  };
  c.alerts.min_interval_seconds = 300;
};
const body = (name: string) => fx.set.vectors.find((v) => v.name === name)!.body;

describe('alert emails', () => {
  test('rejections are never emailed (anyone can post one), so they cannot spend the budget a launch error needs', async () => {
    smtp.mails.length = 0;
    const m = await fx.master(withEmail);
    const { results } = await fx.deliver(
      m,
      ['signature-wrong-key', 'unknown-topic-suffix', 'instance-id-star', 'launch-error-v2'].map((n) => ({
        body: body(n),
      })),
    );
    expect(results.map((r) => verdictOf(r).verdict)).toEqual(['rejected', 'rejected', 'rejected', 'accepted']);
    expect(results[0].logs.filter((l) => l.level === 'WARNING').map((l) => l.message)).toEqual([
      expect.stringContaining('reason=bad_signature'),
    ]);
    expect(smtp.mails).toHaveLength(1);
    const [mail] = smtp.mails;
    expect(mail.to.sort()).toEqual(['<oncall@example.com>', '<ops@example.com>']);
    expect(mail.data).toMatch(/^Subject: salt-autoscale: launch error in web-asg$/m);
    expect(text(mail)).not.toContain(PASSWORD);
    expect(mail.auth).toBe(`\0salt-master\0${PASSWORD}`); // read from password_file at send time
    expect(results.flatMap((r) => r.logs).filter((l) => l.level === 'ERROR')).toEqual([]);
  });

  test('a second Auto Scaling error within min_interval is logged, not mailed', async () => {
    smtp.mails.length = 0;
    const m = await fx.master(withEmail);
    const { results } = await fx.deliver(m, [{ body: body('launch-error-v2') }, { body: body('terminate-error-v2') }]);
    expect(results.map((r) => verdictOf(r))).toEqual([
      { verdict: 'accepted', outcome: 'launch_error' },
      { verdict: 'accepted', outcome: 'terminate_error' },
    ]);
    expect(results[1].logs.some((l) => l.level === 'WARNING' && l.message.includes('TERMINATE_ERROR'))).toBe(true);
    expect(smtp.mails).toHaveLength(1);
  });

  test('an Auto Scaling launch error is emailed; SubscriptionConfirmation in email mode mails the link and visits nothing', async () => {
    smtp.mails.length = 0;
    fx.server.reset();
    const m = await fx.master((c) => {
      withEmail(c);
      c.reactor.subscription_confirmation = 'email';
    });
    const { results } = await fx.deliver(m, [
      { body: body('launch-error-v2') },
      { body: body('subscription-confirmation-v2') },
    ]);
    expect(results.map((r) => verdictOf(r))).toEqual([
      { verdict: 'accepted', outcome: 'launch_error' },
      { verdict: 'accepted', outcome: 'subscription_confirmation' },
    ]);
    expect(smtp.mails).toHaveLength(2); // the confirmation link is not held back by the alert rate limit
    const subjects = smtp.mails.map((mail) => /^Subject: (.*)$/m.exec(mail.data)?.[1]).sort();
    expect(subjects).toEqual([
      'salt-autoscale: confirm the SNS subscription',
      'salt-autoscale: launch error in web-asg',
    ]);
    const url = JSON.parse(body('subscription-confirmation-v2')).SubscribeURL as string;
    expect(smtp.mails.some((mail) => text(mail).includes(url))).toBe(true);
    expect(fx.server.fetches(`${SUBSCRIBE_PATH_PREFIX}*`)).toBe(0);
  });

  test('on a master, where salt.utils.smtp is importable, the mail still goes by smtplib (salt.utils.smtp is never called)', async () => {
    smtp.mails.length = 0;
    const m = await fx.master(withEmail);
    const { saltSmtpCalls } = await fx.deliver(m, [{ body: body('launch-error-v2') }], { fakeSaltSmtp: true });
    expect(saltSmtpCalls).toEqual([]);
    expect(smtp.mails).toHaveLength(1);
  });

  test('STARTTLS verifies the server: a certificate no CA vouches for gets no mail and no password', async () => {
    const dir = fx.dir;
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'smtp-key.pem'),
        '-out',
        join(dir, 'smtp-cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const tlsSmtp = await startSmtp({
      key: readFileSync(join(dir, 'smtp-key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'smtp-cert.pem'), 'utf8'),
    });
    try {
      const m = await fx.master((c) => {
        withEmail(c);
        c.alerts.email!.smtp_port = tlsSmtp.port;
        c.alerts.email!.tls = true;
      });
      const { results } = await fx.deliver(m, [{ body: body('launch-error-v2') }]);
      expect(verdictOf(results[0])).toEqual({ verdict: 'accepted', outcome: 'launch_error' });
      expect(tlsSmtp.counts.starttls).toBe(1); // it asked for TLS ...
      expect(tlsSmtp.counts.secured).toBe(0); // ... and refused this certificate
      expect(tlsSmtp.mails).toEqual([]);
    } finally {
      await tlsSmtp.close();
    }
  });

  test('no email settings: nothing is mailed', async () => {
    smtp.mails.length = 0;
    const m = await fx.master();
    const { results } = await fx.deliver(m, [{ body: body('launch-error-v2') }]);
    expect(verdictOf(results[0])).toEqual({ verdict: 'accepted', outcome: 'launch_error' });
    expect(smtp.mails).toHaveLength(0);
  });
});
