// The non-interactive side of init, as pure functions: answers files and flags (parsePreset), completing them
// with defaults (--yes), the YAML text (values survive exactly), and where AWS defaults come from.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { answersToConfig, type InitAnswers } from '../src/init/answers.js';
import { parseAnswersText } from '../src/init/answers-file.js';
import { defaultRegion, parseIni, profileNames } from '../src/init/aws-environment.js';
import { completeAnswers } from '../src/init/complete.js';
import { flagsToRaw } from '../src/init/flags.js';
import { mergePresets, parsePreset } from '../src/init/preset.js';
import { parseSaltVersion } from '../src/init/salt-version.js';
import { configYaml } from '../src/init/yaml.js';

const fileLabel = (key: string) => (key ? `answers.yaml: ${key}` : 'answers.yaml:');

describe('answers files and flags', () => {
  it('reads groups as name:mode strings or as a mapping with per-group settings', () => {
    expect(parsePreset({ groups: ['web-asg:salt-cloud', 'worker-asg'] }, fileLabel)).toEqual({
      preset: { groups: [{ name: 'web-asg', bootstrap: 'salt-cloud' }, { name: 'worker-asg' }] },
      problems: [],
    });
    expect(
      parsePreset(
        {
          groups: {
            'web-asg': { bootstrap: 'salt-cloud', ssh_username: 'ubuntu' },
            'worker-asg': { salt_version: 3008 },
            db: 'preauth',
          },
        },
        fileLabel,
      ).preset.groups,
    ).toEqual([
      { name: 'web-asg', bootstrap: 'salt-cloud', ssh_username: 'ubuntu' },
      { name: 'worker-asg', salt_version: '3008' },
      { name: 'db', bootstrap: 'preauth' },
    ]);
  });

  it('reports every wrong answer at once, naming the key, without echoing secrets', () => {
    const { problems } = parsePreset(
      {
        region: 'mars-1',
        groups: ['web-asg:ssh', 'web-asg', 'web-asg'],
        public_url: 'http://salt.example.com',
        api_port: 'eighty',
        credentials: 'root',
        secret_access_key: 'super secret value',
        email: { to: ['ops@example.com', 'not-an-address'], tls: 'yes', pasword: 'x' },
        colour: 'blue',
      },
      fileLabel,
    );
    expect(problems).toEqual([
      'answers.yaml: region: "mars-1" is not an AWS region name such as us-east-1.',
      'answers.yaml: groups[0] is the text "ssh"; expected attested or preauth or salt-cloud',
      'answers.yaml: groups[2] names the group "web-asg" twice',
      'answers.yaml: public_url: "http://salt.example.com" must use https:// (SNS would otherwise post notifications in clear text).',
      'answers.yaml: api_port: "eighty" is not a TCP port (a number from 1 to 65535).',
      'answers.yaml: credentials is the text "root"; expected instance-role or keys',
      'answers.yaml: secret_access_key: the value is not valid (it must be one word, no blanks).',
      'answers.yaml: email.to[1]: "not-an-address" is not an email address.',
      'answers.yaml: email.tls is the text "yes"; expected true or false',
      'answers.yaml: email.pasword is not a known answer; expected one of smtp_host, from, username, password, password_file, smtp_port, tls, to',
      expect.stringMatching(
        /^answers\.yaml: colour is not a known answer; expected one of access_key_id, api_host, .*topic_name$/,
      ),
    ]);
    expect(problems.join('\n')).not.toContain('super secret');
  });

  it("checks addresses and host names by the schema's rules: salt-api binds an address, not a URL", () => {
    const { problems } = parsePreset(
      flagsToRaw({ apiHost: 'https://salt.example.com:99999', masterAddress: 'not a host!!', smtpHost: 'smtp:25' }),
      (k) => `--${k}`,
    );
    expect(problems).toEqual([
      '--api_host: "https://salt.example.com:99999" must be a bare host name or IP address, without a scheme or path.',
      '--master_address: "not a host!!" is not a valid host name or IP address (letters, digits, - and . only).',
      '--email.smtp_host: "smtp:25" must be a host name or IP address without a port (the port is a setting of its own).',
    ]);
    expect(parsePreset({ api_host: '::', master_address: '10.0.0.5' }, fileLabel).problems).toEqual([]);
  });

  it('reads an answers file as text: numbers keep every digit as written (versions, passwords, keys)', () => {
    const file = [
      'region: eu-west-1',
      'groups: {web: {bootstrap: salt-cloud, ssh_username: ec2-user}, workers: {salt_version: 3006.10}}',
      'public_url: https://salt.example.com',
      'keyname: kp',
      'private_key: /etc/salt/kp.pem',
      'credentials: keys',
      'access_key_id: AKIAIOSFODNN7EXAMPLE',
      'secret_access_key: 123456789012345678901234567890',
      'api_port: 08443',
      'email: {smtp_host: smtp.example.com, from: a@example.com, to: b@example.com, username: u, password: 0012345, tls: false}',
      '',
    ].join('\n');
    const { preset, problems } = parsePreset(parseAnswersText(file, 'answers.yaml'), fileLabel);
    expect(problems).toEqual([]);
    const done = completeAnswers(preset, {});
    const { config } = parseConfigText(configYaml(done.answers!), 'x.yaml');
    expect(config.groups.workers.salt_version).toBe('3006.10');
    expect(config.cloud_provider.key).toBe('123456789012345678901234567890');
    expect(config.alerts.email).toMatchObject({ password: '0012345', tls: false });
    expect(config.salt_api?.port).toBe(8443);
    const twenty = parsePreset(parseAnswersText('email: {password: 12345678901234567890}\n', 'a.yaml'), fileLabel);
    expect(twenty.preset.email?.password).toBe('12345678901234567890');
    // JSON is read the same way.
    expect(parseAnswersText('{"salt_version": 3007.10}', 'a.json')).toEqual({ salt_version: '3007.10' });
    // A caller's own number that is not exact is refused with the loader's message, never shown if secret.
    expect(parsePreset({ salt_version: 3007.1, email: { password: 1e21 } }, fileLabel).problems).toEqual([
      'answers.yaml: salt_version is the number 3007.1; quote it ("3007.1") as it is meant, or YAML may change it (3007.10 would read as 3007.1, 0012 as 12)',
      'answers.yaml: email.password is a number; quote it ("…") as it is meant, or YAML may change it (3007.10 would read as 3007.1, 0012 as 12)',
    ]);
  });

  it('answers files that are not answers: an alias bomb and broken YAML are refused as bad input', () => {
    const bomb =
      'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n';
    expect(() => parseAnswersText(bomb, 'answers.yaml')).toThrow(
      expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/^answers\.yaml: its YAML aliases/) }),
    );
    expect(() => parseAnswersText('region: "x\n', 'answers.yaml')).toThrow(
      /^answers\.yaml:\d+:\d+: invalid YAML\/JSON: /,
    );
  });

  it('maps commander options onto answer keys; only a given --no-smtp-tls counts', () => {
    const raw = flagsToRaw({
      config: 'x.yaml',
      yes: true,
      region: 'eu-west-1',
      group: ['a', 'b:salt-cloud'],
      publicUrl: 'https://s.example.com',
      apiPort: '8443',
      securityGroup: ['sg1'],
      emailTo: ['ops@example.com'],
      smtpHost: 'smtp',
      smtpTls: true,
    });
    expect(raw).toEqual({
      region: 'eu-west-1',
      groups: ['a', 'b:salt-cloud'],
      public_url: 'https://s.example.com',
      api_port: '8443',
      security_groups: ['sg1'],
      email: { smtp_host: 'smtp', to: ['ops@example.com'] },
    });
    expect(flagsToRaw({ smtpTls: false })).toEqual({ email: { tls: false } });
  });

  it('flags win over the answers file', () => {
    const file = parsePreset(
      { region: 'eu-west-1', topic_name: 'a', email: { smtp_host: 'smtp1', from: 'a@example.com' } },
      fileLabel,
    ).preset;
    const flags = parsePreset(flagsToRaw({ region: 'us-west-2', smtpHost: 'smtp2' }), (k) => k).preset;
    expect(mergePresets(file, flags)).toEqual({
      region: 'us-west-2',
      topic_name: 'a',
      email: { smtp_host: 'smtp2', from: 'a@example.com' },
    });
  });
});

describe('init --yes: completing the answers', () => {
  it('fills every default and derives port and master address from the public URL', () => {
    const done = completeAnswers(
      { groups: [{ name: 'web-asg' }], public_url: 'https://salt.example.com:8443' },
      { region: 'eu-north-1' },
    );
    expect(done.answers).toEqual({
      region: 'eu-north-1',
      groups: [{ name: 'web-asg', bootstrap: 'attested', salt_version: '3007.14' }],
      public_url: 'https://salt.example.com:8443',
      api_host: '0.0.0.0',
      api_port: 8443,
      ssl_crt: '/etc/pki/tls/certs/salt-api.crt',
      ssl_key: '/etc/pki/tls/private/salt-api.key',
      provider_name: 'ec2-autoscale',
      credentials: 'instance-role',
      master_address: 'salt.example.com',
      topic_name: 'salt-autoscale',
    });
  });

  it("lists what is missing, with the flag to give it, and never guesses an AMI's SSH user or a key pair", () => {
    expect(completeAnswers({}, {}).missing).toEqual([
      'region (--region): the AWS region of the groups (or set AWS_REGION)',
      'groups (--group): at least one Auto Scaling group',
      'public_url (--public-url): the https URL SNS posts to, e.g. https://salt.example.com:8000',
    ]);
    expect(
      completeAnswers(
        {
          region: 'us-east-1',
          public_url: 'https://s.example.com',
          bootstrap: 'salt-cloud',
          groups: [{ name: 'web' }],
          credentials: 'keys',
        },
        {},
      ).missing,
    ).toEqual([
      "ssh_username (--ssh-username): the SSH user of salt-cloud group web's AMI, e.g. ec2-user",
      'access_key_id (only in an --answers file): the AWS access key id for credentials: keys',
      'secret_access_key (only in an --answers file): the AWS secret access key for credentials: keys',
      'keyname (--keyname): the EC2 key pair salt-cloud logs in with',
      "private_key (--private-key): the path of that key pair's private key on the master",
    ]);
  });

  it('email alerts: on as soon as one email answer is given, then host, sender and recipients are needed', () => {
    const base = { region: 'us-east-1', public_url: 'https://s.example.com', groups: [{ name: 'web' }] };
    expect(completeAnswers({ ...base, email: { password_file: '/etc/salt/smtp' } }, {}).missing).toEqual([
      'email.smtp_host (--smtp-host): the SMTP server for alert emails',
      'email.from (--email-from): the sender address of alert emails',
      'email.to (--email-to): who receives alert emails',
      'email.username (--smtp-username): the SMTP user name that goes with the password',
    ]);
    // The rule that a password and a password file exclude each other is the schema's, word for word.
    expect(
      completeAnswers(
        {
          ...base,
          email: {
            smtp_host: 'smtp',
            from: 'a@e.com',
            to: ['b@e.com'],
            username: 'u',
            password: 'p',
            password_file: '/p',
          },
        },
        {},
      ).missing,
    ).toEqual(['email.password (only in an --answers file): is set together with password_file; keep only one']);
    const done = completeAnswers(
      { ...base, email: { smtp_host: 'smtp', from: 'a@example.com', to: ['b@example.com'] } },
      {},
    );
    expect(done.answers?.email).toEqual({
      smtp_host: 'smtp',
      smtp_port: 587,
      tls: true,
      from: 'a@example.com',
      to: ['b@example.com'],
    });
  });
});

describe('the written YAML', () => {
  const answers: InitAnswers = {
    region: 'us-east-1',
    groups: [
      { name: 'web asg #1', bootstrap: 'salt-cloud', ssh_username: 'ec2-user' },
      { name: "it's {{ worker }}", bootstrap: 'preauth', salt_version: '3008' },
    ],
    public_url: 'https://salt.example.com:8000',
    api_host: '0.0.0.0',
    api_port: 8000,
    ssl_crt: '/etc/pki/tls/certs/salt api.crt',
    ssl_key: "/etc/pki/tls/private/o'brien: key.pem",
    provider_name: 'ec2-autoscale',
    credentials: 'keys',
    access_key_id: 'AKIAIOSFODNN7EXAMPLE',
    secret_access_key: "a'b\"c#d:{{e}}'''",
    keyname: 'kp: "x"',
    private_key: '/etc/salt/kp #1.pem',
    security_groups: ['salt minions'],
    master_address: 'salt.example.com',
    topic_name: 'salt-autoscale',
    email: {
      smtp_host: 'smtp.example.com',
      smtp_port: 587,
      tls: true,
      from: 'a@example.com',
      to: ['b@example.com'],
      username: 'u',
      password: 'p #: "q"',
    },
  };

  it('keeps every value exactly, whatever quotes, colons, hashes or braces it holds', () => {
    const { config } = parseConfigText(configYaml(answers), 'x.yaml');
    expect(config.cloud_provider).toMatchObject({
      key: answers.secret_access_key,
      keyname: answers.keyname,
      private_key: answers.private_key,
      securitygroup: 'salt minions',
    });
    expect(config.salt_api?.ssl_crt).toBe(answers.ssl_crt);
    expect(config.salt_api?.ssl_key).toBe(answers.ssl_key);
    expect(Object.keys(config.groups)).toEqual(['web asg #1', "it's {{ worker }}"]);
    expect(config.alerts.email?.password).toBe('p #: "q"');
    // And nothing else than what init means to write.
    const data = parseConfigText(configYaml(answers), 'x.yaml').document.toJS();
    expect(data).toEqual(answersToConfig(answers));
  });

  it('says at the top when the file holds a secret', () => {
    expect(configYaml(answers)).toMatch(/^# .*\n# .*\n# This file holds a secret, so it was written with mode 0600/);
  });
});

describe('AWS defaults from the environment and ~/.aws', () => {
  const files = {
    config:
      '[default]\nregion = eu-west-1\n\n[profile prod]\nregion=ap-south-1 ; comment\n# a comment\n[sso-session corp]\nsso_region = us-east-1\n',
    credentials: '[default]\naws_access_key_id = x\n[legacy]\naws_access_key_id = y\n',
  };

  it('parses the INI sections', () => {
    expect(parseIni(files.config).get('profile prod')?.get('region')).toBe('ap-south-1');
  });

  it('lists the profiles of both files, default first', () => {
    expect(profileNames(files)).toEqual(['default', 'legacy', 'prod']);
    expect(profileNames({ config: '', credentials: '' })).toEqual([]);
  });

  it('takes the region from AWS_REGION, AWS_DEFAULT_REGION, then the profile, as the SDK does', () => {
    expect(defaultRegion({ AWS_REGION: 'us-west-1', AWS_DEFAULT_REGION: 'us-west-2' }, files)).toBe('us-west-1');
    expect(defaultRegion({ AWS_DEFAULT_REGION: 'us-west-2' }, files)).toBe('us-west-2');
    expect(defaultRegion({}, files, 'prod')).toBe('ap-south-1');
    expect(defaultRegion({ AWS_PROFILE: 'prod' }, files)).toBe('ap-south-1');
    expect(defaultRegion({}, files)).toBe('eu-west-1');
    expect(defaultRegion({}, files, 'legacy')).toBeUndefined();
  });
});

describe("the master's Salt version", () => {
  it('is read from `salt-master --version`', () => {
    expect(parseSaltVersion('salt-master 3007.1 (Chlorine)\n')).toBe('3007.1');
    expect(parseSaltVersion('salt-master 3008 (Argon)')).toBe('3008');
    expect(parseSaltVersion('command not found')).toBeUndefined();
  });
});
