// verify and the rendered reactor judge the same edge-case messages alike (beyond the shared vectors): odd
// URLs, timestamps, base64, JSON quirks, inner messages. Each message is signed in the test, so only the rule
// under test can reject it; the reactor runs in the Salt-like harness with its real fetch path.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { handledRecord } from '../src/sns/cache.js';
import { CertificateStore } from '../src/sns/certificate-store.js';
import { saltReaction } from '../src/sns/reaction.js';
import { verifySettings } from '../src/sns/settings.js';
import { verifyMessage } from '../src/sns/verify-message.js';
import { type ReactorFixture, setupReactorFixture, verdictOf } from './helpers/reactor-fixture.js';
import { ACCOUNT_ID, autoscalingMessage, TOPIC_ARN } from './helpers/sns-vectors.js';

let fx: ReactorFixture;
beforeAll(async () => {
  fx = await setupReactorFixture();
});
afterAll(async () => {
  await fx?.close();
});

type Env = Record<string, unknown>;

/** Edge cases: a name and a body (most built from a fresh signed envelope with its own MessageId). */
function edgeCases(): [string, string][] {
  const now = new Date();
  let n = 0;
  const id = () => `5e0c${String(++n).padStart(4, '0')}-0000-4000-8000-000000000000`;
  const inner = (edit: (m: Env) => void = () => {}, event = 'autoscaling:EC2_INSTANCE_LAUNCH') => {
    const m = autoscalingMessage(event, 'web-asg', 'i-0123456789abcdef0', now);
    edit(m);
    return JSON.stringify(m);
  };
  const notification = (edit: (e: Env) => void = () => {}, v: '1' | '2' = '2'): string => {
    const e: Env = {
      Type: 'Notification',
      MessageId: id(),
      TopicArn: TOPIC_ARN,
      Subject: 'Auto Scaling',
      Message: inner(),
      Timestamp: now.toISOString(),
    };
    edit(e);
    return JSON.stringify(fx.set.sign(e, v));
  };
  const after = (body: string, edit: (e: Env) => void) => {
    const e = JSON.parse(body);
    edit(e);
    return JSON.stringify(e);
  };
  const confirmation = (edit: (e: Env) => void = () => {}, type = 'SubscriptionConfirmation') => {
    const e: Env = {
      Type: type,
      MessageId: id(),
      TopicArn: TOPIC_ARN,
      Token: 'abc',
      Message: 'confirm',
      Timestamp: now.toISOString(),
      SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC_ARN)}&Token=abc`,
    };
    edit(e);
    return JSON.stringify(fx.set.sign(e, '1'));
  };
  const certPath = new URL(fx.set.signingCertUrl).pathname;
  const withCertUrl = (url: string) =>
    notification((e) => {
      e.SigningCertURL = url;
    });
  const ts = (t: string) =>
    notification((e) => {
      e.Timestamp = t;
    });
  const local = (d: Date, offsetMin: number) => {
    const shifted = new Date(d.getTime() + offsetMin * 60_000).toISOString().slice(0, 19);
    const sign = offsetMin >= 0 ? '+' : '-';
    const abs = Math.abs(offsetMin);
    return `${shifted}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  };
  return [
    ['plain', notification()],
    ['v1', notification(() => {}, '1')],
    [
      'terminate',
      notification((e) => {
        e.Message = inner(() => {}, 'autoscaling:EC2_INSTANCE_TERMINATE');
      }),
    ],
    [
      'launch-preauth',
      notification((e) => {
        e.Message = inner((m) => {
          m.AutoScalingGroupName = 'worker-asg';
        });
      }),
    ],
    [
      'launch-short-id',
      notification((e) => {
        e.Message = inner((m) => {
          m.EC2InstanceId = 'i-0a1b2c3d';
        });
      }),
    ],
    ['cert-url-uppercase-host', withCertUrl(`https://SNS.us-east-1.amazonaws.com${certPath}`)],
    ['cert-url-uppercase-scheme', withCertUrl(`HTTPS://sns.us-east-1.amazonaws.com${certPath}`)],
    ['cert-url-trailing-dot-host', withCertUrl(`https://sns.us-east-1.amazonaws.com.${certPath}`)],
    ['cert-url-percent-path', withCertUrl('https://sns.us-east-1.amazonaws.com/a%2Fb.pem')],
    ['cert-url-at-in-path', withCertUrl('https://sns.us-east-1.amazonaws.com/@evil.example/x.pem')],
    ['cert-url-double-slash', withCertUrl(`https://sns.us-east-1.amazonaws.com/${certPath}`)],
    ['cert-url-dot-segments', withCertUrl(`https://sns.us-east-1.amazonaws.com/x/..${certPath}`)],
    ['cert-url-trailing-newline', withCertUrl(`https://sns.us-east-1.amazonaws.com${certPath}\n`)],
    ['cert-url-cn', withCertUrl('https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-missing.pem')],
    ['cert-url-gov', withCertUrl('https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-missing.pem')],
    ['cert-url-region-digits', withCertUrl('https://sns.us-east-١.amazonaws.com/x.pem')],
    ['timestamp-offset', ts(local(now, 120))],
    ['timestamp-negative-offset', ts(local(now, -330))],
    ['timestamp-no-millis', ts(now.toISOString().replace(/\.\d+Z$/, 'Z'))],
    ['timestamp-nanos', ts(now.toISOString().replace(/Z$/, '123456Z'))],
    ['timestamp-lowercase-z', ts(now.toISOString().replace(/Z$/, 'z'))],
    ['timestamp-space', ts(now.toISOString().replace('T', ' '))],
    ['timestamp-offset-no-colon', ts(now.toISOString().replace(/Z$/, '+0000'))],
    ['timestamp-arabic-digits', ts(now.toISOString().replace(/^2/, '٢'))],
    ['timestamp-leap-second', ts(now.toISOString().replace(/:\d\d\./, ':60.'))],
    [
      'signature-with-newline',
      after(notification(), (e) => {
        e.Signature = `${String(e.Signature).slice(0, 76)}\n${String(e.Signature).slice(76)}`;
      }),
    ],
    [
      'signature-unpadded',
      after(notification(), (e) => {
        e.Signature = String(e.Signature).replace(/=+$/, '');
      }),
    ],
    [
      'signature-urlsafe',
      after(notification(), (e) => {
        e.Signature = String(e.Signature).replace(/\+/g, '-').replace(/\//g, '_');
      }),
    ],
    [
      'subject-empty-string',
      notification((e) => {
        e.Subject = '';
      }),
    ],
    [
      'subject-lone-surrogate-after-signing',
      after(notification(), (e) => {
        e.Subject = 'Auto Scaling \ud800';
      }),
    ],
    [
      'subject-lone-surrogate-signed',
      notification((e) => {
        e.Subject = 'Auto Scaling \ud800';
      }),
    ],
    [
      'message-unicode-escapes',
      notification((e) => {
        e.Message = inner((m) => {
          m.Description = 'd\u00e9j\u00e0 \u2713 \ud83d\ude00';
        });
      }),
    ],
    ['confirmation', confirmation()],
    [
      'confirmation-subject-number',
      after(confirmation(), (e) => {
        e.Subject = 7;
      }),
    ],
    [
      'confirmation-subscribe-no-path',
      confirmation((e) => {
        e.SubscribeURL = 'https://sns.us-east-1.amazonaws.com';
      }),
    ],
    [
      'confirmation-subscribe-unicode',
      confirmation((e) => {
        e.SubscribeURL = `${e.SubscribeURL}é`;
      }),
    ],
    [
      'unsubscribe-evil-url',
      confirmation((e) => {
        e.SubscribeURL = 'https://evil.example/';
      }, 'UnsubscribeConfirmation'),
    ],
    [
      'launch-error-no-instance',
      notification((e) => {
        e.Message = inner((m) => {
          m.EC2InstanceId = '';
        }, 'autoscaling:EC2_INSTANCE_LAUNCH_ERROR');
      }),
    ],
    [
      'terminate-error-glob-instance',
      notification((e) => {
        e.Message = inner((m) => {
          m.EC2InstanceId = '*';
        }, 'autoscaling:EC2_INSTANCE_TERMINATE_ERROR');
      }),
    ],
    [
      'test-notification-with-glob-instance',
      notification((e) => {
        e.Message = inner((m) => {
          m.EC2InstanceId = '*';
        }, 'autoscaling:TEST_NOTIFICATION');
      }),
    ],
    [
      'group-proto',
      notification((e) => {
        e.Message = inner((m) => {
          m.AutoScalingGroupName = '__proto__';
        });
      }),
    ],
    [
      'group-list',
      notification((e) => {
        e.Message = inner((m) => {
          m.AutoScalingGroupName = ['web-asg'];
        });
      }),
    ],
    [
      'event-constructor',
      notification((e) => {
        e.Message = inner((m) => {
          m.Event = 'constructor';
        });
      }),
    ],
    [
      'account-number',
      notification((e) => {
        e.Message = inner((m) => {
          m.AccountId = Number(ACCOUNT_ID);
        });
      }),
    ],
    [
      'message-json-null',
      notification((e) => {
        e.Message = 'null';
      }),
    ],
    [
      'message-json-nan',
      notification((e) => {
        e.Message = inner().replace('"Progress":50', '"Progress":NaN');
      }),
    ],
    [
      'message-duplicate-keys',
      notification((e) => {
        e.Message = inner().replace(/}$/, ',"AutoScalingGroupName":"evil-asg"}');
      }),
    ],
    [
      'message-with-bom',
      notification((e) => {
        e.Message = `\ufeff${inner()}`;
      }),
    ],
    ['body-with-bom', `\ufeff${notification()}`],
    ['body-leading-whitespace', `\n  ${notification()}\n`],
    ['body-whitespace-only', '   \n'],
    ['body-empty', ''],
    ['body-duplicate-type', notification().replace(/^\{/, '{"Type":"SubscriptionConfirmation",')],
    ['body-nan-field', notification().replace(/}$/, ',"Extra":NaN}')],
    ['body-lone-surrogate', notification().replace(/}$/, ',"Extra":"\\ud800"}')],
    ['body-nested-500', notification().replace(/}$/, `,"Extra":${'['.repeat(500)}${']'.repeat(500)}}`)],
  ];
}

it('verify and the reactor agree on every edge case', async () => {
  const cases = edgeCases();
  const master = await fx.master();
  const { results } = await fx.deliver(
    master,
    cases.map(([, body]) => ({ body })),
  );
  const reactor = Object.fromEntries(cases.map(([name], i) => [name, verdictOf(results[i])]));
  const reactorDicts = Object.fromEntries(cases.map(([name], i) => [name, results[i].reaction ?? {}]));

  const settings = verifySettings(fx.config);
  const store = new CertificateStore({ timeoutMs: 5000, env: fx.server.env });
  const cacheDir = join(fx.dir, 'verify-cache');
  mkdirSync(join(cacheDir, 'handled'), { recursive: true });
  const mine: Record<string, unknown> = {};
  const mineDicts: Record<string, unknown> = {};
  for (const [name, body] of cases) {
    const v = await verifyMessage(body, settings, {
      now: () => new Date(),
      certificate: (url, now) => store.certificate(url, now),
      handled: (id) => handledRecord(cacheDir, id),
    });
    mine[name] =
      v.verdict === 'accepted' ? { verdict: v.verdict, outcome: v.outcome } : { verdict: v.verdict, reason: v.reason };
    mineDicts[name] = saltReaction(v.reaction);
  }
  expect(mine).toEqual(reactor);
  // and the dict returned to Salt (runner.cloud.create / wheel.key.delete, or nothing) is the same
  expect(mineDicts).toEqual(reactorDicts);
  expect(Object.values(mineDicts).filter((d) => Object.keys(d as object).length > 0).length).toBeGreaterThan(5);
  // the set is not vacuous: both verdicts occur
  expect(Object.values(mine).some((v) => (v as { verdict: string }).verdict === 'accepted')).toBe(true);
  expect(Object.values(mine).some((v) => (v as { verdict: string }).verdict === 'rejected')).toBe(true);
});
