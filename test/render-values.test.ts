// Values are data, never code: whatever a config value holds comes out of every rendered file exactly as it
// went in, read back the way Salt reads it (PyYAML) and the way the yaml library reads YAML 1.1.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateConfig } from '../src/config/schema.js';
import type { Config } from '../src/config/types.js';
import { renderFiles } from '../src/render/files.js';
import { pyYamlLoad } from './helpers/python.js';

const HOSTILE = [
  `it's "quoted"`,
  'a: b',
  '# not a comment',
  'trailing #',
  'line1\nline2',
  'ends with newline\n',
  '{{ salt["cmd.run"]("id") }}',
  '{{{triple}}}',
  "'''",
  '"""',
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  '~',
  'null',
  'true',
  '0777',
  '0x1F',
  '1_000',
  '1:20',
  '1e3',
  '.inf',
  '.nan',
  '2001-12-14',
  'ünïcødé ✓ 日本',
  '- item',
  '[a, b]',
  '{a: b}',
  '&anchor',
  '*alias',
  '!!python/object:os.system',
  '%TAG',
  '@at',
  '`backtick`',
  ' leading space',
  'trailing space ',
  '\ttab',
  '|',
  '>',
  '? key',
  'back\\slash',
  'cr\rlf',
  '',
];

function seededStrings(count: number, seed: number): string[] {
  const alphabet = ` \t\n\r'"\\:#{}[],&*!|>%@\`-?~=<>ab1é✓\u2028\u0085\u007f\ufeff😀`;
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + (next() % 24) }, () => alphabet[next() % alphabet.length]).join(''),
  );
}

function configWith(values: string[]): Config {
  const grains: Record<string, string> = {};
  values.forEach((v, i) => {
    grains[`g${i}`] = v;
  });
  const { config, problems } = validateConfig({
    version: 1,
    aws: { region: 'eu-west-1' },
    sns: { topic_name: 'salt-autoscale', topic_arn: 'arn:aws:sns:eu-west-1:123456789012:salt-autoscale' },
    salt_api: { public_url: 'https://salt.example.com:8000', ssl_crt: '/etc/crt', ssl_key: '/etc/key' },
    salt: { master_address: 'salt.example.com' },
    cloud_provider: {
      credentials: 'keys',
      id: 'AKIAIOSFODNN7EXAMPLE',
      // An AWS secret key is one word (the schema refuses blanks); every other character goes through.
      key: values.join('|').replace(/\s/g, '') || 'k',
      keyname: 'salt',
      private_key: '/etc/salt/salt.pem',
      extra: Object.fromEntries(values.map((v, i) => [`opt${i}`, v])),
    },
    groups: {
      'web asg #1 {{x}} "q"': {
        bootstrap: 'salt-cloud',
        ssh_username: 'ec2-user',
        minion: { grains },
        settings: { note: values },
      },
      "it's-preauth": { bootstrap: 'preauth', salt_version: '3007.14', minion: { grains } },
    },
    alerts: {
      email: {
        smtp_host: 'smtp.example.com',
        from: 'a@example.com',
        to: ['b@example.com'],
        username: 'u',
        password: values.join('') || 'p',
        subject: values.join(' ') || 's',
      },
    },
  });
  if (!config) throw new Error(JSON.stringify(problems));
  return config;
}

function roundTrip(values: string[]) {
  const config = configWith(values);
  const files = renderFiles(config, { outDir: '/tmp/unused', configFile: "weird 'name'.yaml\n# x" });
  const yamlFiles = files.filter((f) => f.path.endsWith('.conf')).map((f) => f.content);
  const [master, provider] = pyYamlLoad(yamlFiles) as any[];
  const [master2, provider2] = yamlFiles.map((t) => parse(t, { version: '1.1' }));
  return { config, master, provider, master2, provider2 };
}

describe('config values survive rendering exactly', () => {
  for (const [name, values] of [
    ['hostile table', HOSTILE],
    ['200 seeded random strings', seededStrings(200, 7)],
  ] as const) {
    it(name, () => {
      const { config, master, provider, master2, provider2 } = roundTrip([...values]);
      for (const [m, p] of [
        [master, provider],
        [master2, provider2],
      ]) {
        const group = m['ec2.autoscale'].groups['web asg #1 {{x}} "q"'];
        expect(group.settings.minion.grains).toEqual(config.groups['web asg #1 {{x}} "q"'].minion.grains);
        expect(group.settings.note).toEqual(values);
        expect(m['ec2.autoscale'].groups["it's-preauth"]).toEqual({ bootstrap: 'preauth' });
        expect(m['smtp.password']).toBe(config.alerts.email!.password);
        expect(m['smtp.subject']).toBe(config.alerts.email!.subject);
        expect(p[config.cloud_provider.name].key).toBe(config.cloud_provider.key);
        for (const [k, v] of Object.entries(config.cloud_provider.extra))
          expect(p[config.cloud_provider.name][k]).toBe(v);
      }
    });
  }

  it('a group name with terminal control characters reaches no file (or --diff) raw', () => {
    // Group names cannot hold C0 controls (the schema refuses them), but C1 (\u009b is a CSI) and bidi overrides.
    const { config, problems } = validateConfig({
      version: 1,
      aws: { region: 'eu-west-1' },
      sns: { topic_name: 't' },
      salt_api: { public_url: 'https://salt.example.com', ssl_crt: '/c', ssl_key: '/k' },
      salt: { master_address: 'salt.example.com' },
      groups: { 'evil\u009b2J\u202e': { salt_version: '3007.14' } },
    });
    expect(problems).toEqual([]);
    const files = renderFiles(config!, { outDir: '/tmp/unused', configFile: 'salt\u009bconf.yaml' });
    for (const f of files) expect(f.content).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(files.find((f) => f.role.startsWith('user data'))?.content).toContain('evil\\u009b2J\\u202e');
  });

  it('a config file name with a newline cannot break out of the header comment', () => {
    const config = configWith(['x']);
    const plain = renderFiles(config, { outDir: '/tmp/unused', configFile: 'salt-autoscale.yaml' });
    const evil = renderFiles(config, { outDir: '/tmp/unused', configFile: 'evil\nimport shutil\n.yaml' });
    evil.forEach((f, i) => {
      if (plain[i].content.includes('from salt-autoscale.yaml'))
        expect(f.content).toContain('from evil import shutil .yaml');
      expect(f.content.split('\n').length).toBe(plain[i].content.split('\n').length);
    });
  });
});
