// Alert emails: sent through a fake SMTP server on 127.0.0.1 (smtplib path) or a stand-in salt.utils.smtp
// (the path a real master takes), and rate-limited so a flood of bad requests is not a flood of emails.
import { writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
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

/** Just enough SMTP (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) to receive what smtplib sends. */
async function startSmtp(): Promise<{ port: number; mails: Mail[]; close: () => Promise<void> }> {
  const mails: Mail[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let buf = '';
    let inData = false;
    let mail: Mail = { from: '', to: [], data: '' };
    s.write('220 fake-smtp ready\r\n');
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
        if (verb === 'EHLO') s.write('250-fake-smtp\r\n250 AUTH PLAIN\r\n');
        else if (verb === 'HELO') s.write('250 fake-smtp\r\n');
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
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    mails,
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
  test('a burst of rejections sends one email, to every recipient, without the password', async () => {
    smtp.mails.length = 0;
    const m = await fx.master(withEmail);
    const { results } = await fx.deliver(
      m,
      ['signature-wrong-key', 'unknown-topic-suffix', 'instance-id-star'].map((n) => ({ body: body(n) })),
    );
    expect(results.map((r) => verdictOf(r).verdict)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(smtp.mails).toHaveLength(1);
    const [mail] = smtp.mails;
    expect(mail.to.sort()).toEqual(['<oncall@example.com>', '<ops@example.com>']);
    expect(mail.data).toMatch(/^Subject: salt-autoscale: rejected SNS message \(bad_signature\)$/m);
    expect(text(mail)).toContain('reason=bad_signature');
    expect(text(mail)).not.toContain(PASSWORD);
    expect(mail.auth).toBe(`\0salt-master\0${PASSWORD}`); // read from password_file at send time
    expect(results.flatMap((r) => r.logs).filter((l) => l.level === 'ERROR')).toEqual([]);
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
    expect(smtp.mails[0].data).toMatch(/^Subject: salt-autoscale: launch error in web-asg$/m);
    const url = JSON.parse(body('subscription-confirmation-v2')).SubscribeURL as string;
    expect(text(smtp.mails[1])).toContain(url);
    expect(fx.server.fetches(`${SUBSCRIBE_PATH_PREFIX}*`)).toBe(0);
  });

  test('on a master, salt.utils.smtp.send is used, once per recipient, with the password from password_file', async () => {
    const m = await fx.master(withEmail);
    const { saltSmtpCalls } = await fx.deliver(m, [{ body: body('cert-url-s3-bucket') }], { fakeSaltSmtp: true });
    expect(saltSmtpCalls.map((c) => c.kwargs['smtp.to'])).toEqual(['ops@example.com', 'oncall@example.com']);
    for (const call of saltSmtpCalls) {
      expect(call.kwargs['smtp.subject']).toBe('salt-autoscale: rejected SNS message (cert_url_invalid)');
      expect(call.kwargs['smtp.password']).toBe(PASSWORD);
      expect(call.optsKeys).toContain('smtp.host');
    }
  });

  test('no email settings: rejections are logged only', async () => {
    smtp.mails.length = 0;
    const m = await fx.master();
    const { results } = await fx.deliver(m, [{ body: body('signature-wrong-key') }]);
    expect(verdictOf(results[0])).toEqual({ verdict: 'rejected', reason: 'bad_signature' });
    expect(smtp.mails).toHaveLength(0);
  });
});
