// delivery and masters as a user meets them: the config's cross-field rules, and render's drop-in per mode and
// per master (what Salt will start), with the errors that stop a render before anything is written.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfigText } from '../src/config/load.js';
import { pyYamlLoad } from './helpers/python.js';
import { EXAMPLE, runInProcess } from './helpers/run-cli.js';
import { tempDir } from './helpers/tmp.js';

const example = readFileSync(EXAMPLE, 'utf8');
const SALT_API = /\nsalt_api:\n(?: {2}.*\n)+/;
const problemsOf = (text: string): string => {
  try {
    parseConfigText(text, 'salt-autoscale.yaml');
    return '';
  } catch (err) {
    return (err as Error).message;
  }
};
/** The example with a delivery/masters block added (and salt_api dropped when `noSaltApi`). */
const withDelivery = (block: string, noSaltApi = false) =>
  (noSaltApi ? example.replace(SALT_API, '\n') : example) + `\n${block}\n`;

describe('config: delivery and masters', () => {
  it('sqs needs no salt_api; webhook and webhook-engine do, and say why', () => {
    expect(problemsOf(withDelivery('delivery: {mode: sqs}', true))).toBe('');
    expect(problemsOf(withDelivery('delivery: {mode: webhook-engine}', true))).toMatch(
      /salt_api is missing; delivery webhook-engine needs the HTTPS listener SNS posts to/,
    );
    expect(problemsOf(example.replace(SALT_API, '\n'))).toMatch(/salt_api is missing; delivery webhook needs/);
    expect(problemsOf(withDelivery('delivery: {mode: smtp}'))).toMatch(/delivery\.mode/);
  });

  it('several masters: exactly one primary, and no attested group', () => {
    expect(problemsOf(withDelivery('delivery: {mode: sqs}\nmasters: {a: {}, b: {}}', true))).toMatch(
      /masters has no master with primary: true; set it on exactly one master/,
    );
    expect(
      problemsOf(withDelivery('delivery: {mode: sqs}\nmasters: {a: {primary: true}, b: {primary: true}}', true)),
    ).toMatch(/masters has primary: true on a, b; set it on exactly one master/);
    const attested = withDelivery('delivery: {mode: sqs}\nmasters: {a: {primary: true}, b: {}}').replace(
      '    bootstrap: preauth\n',
      '    bootstrap: attested\n',
    );
    expect(problemsOf(attested)).toMatch(
      /masters names 2 masters, but attested group worker-asg posts its key to one master only/,
    );
    expect(problemsOf(withDelivery('delivery: {mode: sqs}\nmasters: {a: {primary: true}, b: {}}', true))).toBe('');
  });

  it('webhooks with several masters: each its own https URL', () => {
    expect(
      problemsOf(withDelivery('masters: {a: {primary: true, public_url: "https://a.example.com"}, b: {}}')),
    ).toMatch(/masters\.b\.public_url is missing; with delivery webhook and several masters/);
    expect(
      problemsOf(
        withDelivery(
          'masters: {a: {primary: true, public_url: "https://a.example.com"}, b: {public_url: "https://a.example.com"}}',
        ),
      ),
    ).toMatch(/masters\.b\.public_url is the same as masters\.a\.public_url/);
    expect(
      problemsOf(
        withDelivery(
          'masters: {a: {primary: true, public_url: "https://a.example.com"}, b: {public_url: "http://b.example.com"}}',
        ),
      ),
    ).toMatch(/masters\.b\.public_url uses http:\/\//);
  });
});

describe('render: the drop-in per delivery mode and master', () => {
  const setUp = (block: string, noSaltApi = false) => {
    const dir = tempDir();
    const file = join(dir, 'salt-autoscale.yaml');
    writeFileSync(file, withDelivery(block, noSaltApi));
    return { dir, file };
  };
  const dropIn = async (dir: string) => {
    const text = readFileSync(join(dir, 'out/master.d/ec2-autoscale.conf'), 'utf8');
    // What the master reads (PyYAML), and the same through the yaml package.
    const [fromPy] = pyYamlLoad([text]) as Record<string, any>[];
    expect(fromPy).toEqual(parse(text, { version: '1.1' }));
    return fromPy;
  };

  it("webhook-engine: Salt's webhook engine on salt_api's address, port and certificate; no rest_cherrypy", async () => {
    const { dir, file } = setUp('delivery: {mode: webhook-engine}');
    const res = await runInProcess(['render', '-c', file, '-o', join(dir, 'out')]);
    expect([res.code, res.stderr]).toEqual([0, '']);
    const d = await dropIn(dir);
    expect(d.engines).toEqual([
      {
        webhook: {
          address: '0.0.0.0',
          port: 8000,
          ssl_crt: '/etc/pki/tls/certs/salt-api.crt',
          ssl_key: '/etc/pki/tls/private/salt-api.key',
        },
      },
    ]);
    expect(d).not.toHaveProperty('rest_cherrypy');
    expect(JSON.stringify(d.reactor)).toContain('salt/engines/hook/ec2/autoscale');
  });

  it('sqs: before provision, render stops and says to provision first; nothing is written', async () => {
    const { dir, file } = setUp('delivery: {mode: sqs}', true);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/ {2}topic_arn: .*\n/, ''));
    const res = await runInProcess(['render', '-c', file, '-o', join(dir, 'out')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /delivery is sqs, but sns\.topic_arn is not set.*\n.*Run `salt-autoscale provision` first/,
    );
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('several masters: --master is required and must name one; each drop-in polls its own queue', async () => {
    const { dir, file } = setUp('delivery: {mode: sqs}\nmasters: {a: {primary: true}, b: {}}', true);
    const none = await runInProcess(['render', '-c', file, '-o', join(dir, 'out')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/names 2 masters \(a, b\): say which one this is with --master <name>/);
    const wrong = await runInProcess(['render', '-c', file, '-o', join(dir, 'out'), '--master', 'c']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--master c: .* names no such master; its masters are a, b/);
    expect(existsSync(join(dir, 'out'))).toBe(false);

    const engine = async (m: string) => {
      const res = await runInProcess(['render', '-c', file, '-o', join(dir, 'out'), '--master', m, '--force']);
      expect([res.code, res.stderr]).toEqual([0, '']);
      const d = await dropIn(dir);
      return { engine: d.engines[0].ec2_autoscale_sqs, settings: d['ec2.autoscale'] };
    };
    const a = await engine('a');
    expect(a.engine).toMatchObject({
      queue_url: 'https://sqs.us-east-1.amazonaws.com/123456789012/salt-autoscale-a',
      wait_seconds: 20,
      max_messages: 10,
      visibility_timeout: 900,
    });
    expect(a.settings.performs_once_per_instance).toBe(true);
    const b = await engine('b');
    expect(b.engine.queue_url).toBe('https://sqs.us-east-1.amazonaws.com/123456789012/salt-autoscale-b');
    expect(b.settings.performs_once_per_instance).toBe(false);
  });
});
