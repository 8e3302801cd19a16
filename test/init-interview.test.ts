// The interview, driven through the prompt wrapper with scripted answers: what is asked, what the defaults
// are, how a wrong answer is asked again, and that the resulting file loads as every command will load it.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import type { InitAnswers } from '../src/init/answers.js';
import type { GroupLookup, ListGroupNames } from '../src/init/discover.js';
import { type InterviewContext, interview } from '../src/init/interview.js';
import { configYaml } from '../src/init/yaml.js';
import { type Attempts, attempts, DEFAULT, INTERRUPT, type ScriptedAnswer, scriptedPrompter } from '../src/prompts.js';

const context = (over: Partial<InterviewContext> = {}): InterviewContext => ({
  preset: {},
  profiles: [],
  regionFor: () => undefined,
  ...over,
});

/** Runs the interview and loads the file it leads to, as `render` and `provision` will. */
async function runInterview(script: Record<string, ScriptedAnswer | Attempts>, ctx = context()) {
  const prompter = scriptedPrompter(script, { unscripted: 'default' });
  const answers = await interview(prompter, ctx);
  const text = configYaml(answers);
  const { config } = parseConfigText(text, 'salt-autoscale.yaml');
  return { prompter, answers, text, config };
}

const minimal = {
  'groups.names': 'web-asg',
  public_url: 'https://salt.example.com:8000',
};

describe('init interview', () => {
  it('needs only the groups and the public URL; everything else has a visible default', async () => {
    const { prompter, config, text } = await runInterview(minimal);
    expect(prompter.asked).toEqual([
      'region',
      'groups.names',
      'group.web-asg.bootstrap',
      'group.web-asg.salt_version',
      'public_url',
      'api_host',
      'api_port',
      'ssl_crt',
      'ssl_key',
      'master_address',
      'email',
      'topic_name',
    ]);
    expect(config.aws).toEqual({ region: 'us-east-1' });
    expect(config.groups['web-asg']).toMatchObject({ bootstrap: 'attested', salt_version: '3007.14' }); // the default
    // It names the newest patch release of every supported line before asking (older patches carry CVEs).
    expect(prompter.notes).toContain(
      'The newest patch release of each Salt line: 3008.3, 3007.14, 3006.25 (older patches have known CVEs).',
    );
    expect(config.salt_api).toMatchObject({
      public_url: 'https://salt.example.com:8000',
      host: '0.0.0.0',
      port: 8000,
      ssl_crt: '/etc/pki/tls/certs/salt-api.crt',
      ssl_key: '/etc/pki/tls/private/salt-api.key',
      webhook_url: '/hook',
    });
    expect(config.salt.master_address).toBe('salt.example.com');
    expect(config.cloud_provider).toMatchObject({ name: 'ec2-autoscale', credentials: 'instance-role' });
    expect(config.alerts.email).toBeUndefined();
    expect(config.sns.topic_name).toBe('salt-autoscale');
    // Defaults are spelled out in the file, with comments, not left implicit.
    expect(text).toMatch(/^ {2}autosign_timeout: 120 # minutes/m);
    expect(text).toMatch(/^ {2}max_age_seconds: 3600 # /m);
    expect(text).toContain('# profile: production');
    expect(text).toContain('#   smtp_host: smtp.example.com');
  });

  it("takes defaults from the environment (region, the local master's Salt version) and from the public URL", async () => {
    const { prompter, config } = await runInterview(
      { ...minimal, public_url: 'https://hooks.example.org' },
      context({ regionFor: () => 'eu-west-3', masterSaltVersion: '3006.9' }),
    );
    expect(config.groups['web-asg'].salt_version).toBe('3006.9');
    expect(prompter.questions.get('region')?.default).toBe('eu-west-3');
    expect(config.aws.region).toBe('eu-west-3');
    expect(config.salt_api?.port).toBe(443);
    expect(config.salt.master_address).toBe('hooks.example.org');
  });

  it('asks again after a wrong answer, with a message saying what is wrong', async () => {
    const { prompter, config } = await runInterview({
      region: attempts('us-east', 'Europe', 'eu-central-1'),
      'groups.names': attempts('', 'bad:name', 'web-asg, db asg'),
      public_url: attempts(
        'http://salt.example.com',
        'https://salt.example.com/hook',
        'salt.example.com',
        'https://salt.example.com:8443',
      ),
      api_port: attempts('http', '70000', DEFAULT),
      ssl_crt: attempts('salt-api.crt', '/etc/ssl/salt-api.crt'),
      master_address: attempts('https://salt.internal', '10.0.0.5'),
      topic_name: attempts('salt autoscale', 'salt-autoscale-prod'),
    });
    const problems = prompter.rejected.map((r) => `${r.name}: ${r.problem}`);
    expect(problems).toEqual([
      'region: "us-east" is not an AWS region name such as us-east-1.',
      'region: "Europe" is not an AWS region name such as us-east-1.',
      'groups.names: An answer is required.',
      'groups.names: "bad:name" is not a valid Auto Scaling group name (1-255 characters, no ":" or control characters).',
      'public_url: "http://salt.example.com" must use https:// (SNS would otherwise post notifications in clear text).',
      'public_url: "https://salt.example.com/hook" must have no path, query or fragment (the webhook path is added from webhook_url).',
      'public_url: "salt.example.com" is not an absolute URL.',
      'api_port: "http" is not a TCP port (a number from 1 to 65535).',
      'api_port: "70000" is not a TCP port (a number from 1 to 65535).',
      'ssl_crt: "salt-api.crt" must be an absolute path on the master (starting with /).',
      'master_address: "https://salt.internal" must be a bare host name or IP address, without a scheme or path.',
      'topic_name: "salt autoscale" is not a valid SNS topic name (1-256 letters, digits, - or _).',
    ]);
    expect(config.aws.region).toBe('eu-central-1');
    expect(Object.keys(config.groups)).toEqual(['web-asg', 'db asg']);
    expect(config.salt_api?.port).toBe(8443); // the default after the rejects: the public URL's port
    expect(config.salt.master_address).toBe('10.0.0.5');
    expect(config.sns.topic_name).toBe('salt-autoscale-prod');
  });

  it("mixes preauth and salt-cloud groups; salt-cloud brings the provider questions, ssh user defaults to the first group's", async () => {
    const { prompter, config } = await runInterview({
      ...minimal,
      'groups.names': 'web-asg, api-asg, worker-asg',
      'group.web-asg.bootstrap': 'salt-cloud',
      'group.web-asg.ssh_username': 'ubuntu',
      'group.api-asg.bootstrap': 'salt-cloud',
      'group.worker-asg.salt_version': '3008',
      keyname: 'salt-master',
      private_key: '/etc/salt/pki/cloud/salt-master.pem',
      security_groups: 'salt-minions, web',
    });
    expect(prompter.questions.get('group.api-asg.ssh_username')?.default).toBe('ubuntu');
    expect(prompter.questions.get('group.worker-asg.bootstrap')?.default).toBe('attested');
    expect(config.groups).toEqual({
      'web-asg': {
        bootstrap: 'salt-cloud',
        ssh_username: 'ubuntu',
        provider: 'ec2-autoscale',
        minion: {},
        settings: {},
      },
      'api-asg': {
        bootstrap: 'salt-cloud',
        ssh_username: 'ubuntu',
        provider: 'ec2-autoscale',
        minion: {},
        settings: {},
      },
      'worker-asg': { bootstrap: 'attested', salt_version: '3008', minion: {}, settings: {} },
    });
    expect(config.cloud_provider).toMatchObject({
      name: 'ec2-autoscale',
      credentials: 'instance-role',
      keyname: 'salt-master',
      private_key: '/etc/salt/pki/cloud/salt-master.pem',
      securitygroup: ['salt-minions', 'web'],
      location: 'us-east-1',
    });
    expect(prompter.asked).not.toContain('access_key_id');
  });

  it('preauth-only setups are not asked about salt-cloud at all', async () => {
    const { prompter } = await runInterview({ ...minimal, 'groups.names': 'a, b' });
    for (const q of ['provider_name', 'credentials', 'keyname', 'private_key', 'security_groups'])
      expect(prompter.asked).not.toContain(q);
    // Even when the preset asked for keys without giving them: there is nothing to use them for.
    const { config } = await runInterview(minimal, context({ preset: { credentials: 'keys' } }));
    expect(config.cloud_provider.credentials).toBe('instance-role');
  });

  it('keys mode asks for the secret through the masked prompt and marks the file as holding a secret', async () => {
    const { prompter, config, text, answers } = await runInterview({
      ...minimal,
      'group.web-asg.bootstrap': 'salt-cloud',
      credentials: 'keys',
      access_key_id: attempts('short', 'AKIAIOSFODNN7EXAMPLE'),
      secret_access_key: attempts('has blanks in it', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),
      keyname: 'kp',
      private_key: '/etc/salt/kp.pem',
    });
    expect(config.cloud_provider).toMatchObject({
      credentials: 'keys',
      id: 'AKIAIOSFODNN7EXAMPLE',
      key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    });
    // A rejected secret is not kept in the log of rejects.
    expect(prompter.rejected.find((r) => r.name === 'secret_access_key')).toEqual({
      name: 'secret_access_key',
      value: '***',
      problem: 'A secret access key is one word, with no blanks.',
    });
    expect(prompter.rejected.find((r) => r.name === 'secret_access_key')!.problem).not.toContain('has blanks');
    expect(text).toContain('mode 0600');
    expect(answers.secret_access_key).toBe('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  });

  it('email alerts: off by default; on, with a password file (no secret) or a typed password', async () => {
    const off = await runInterview(minimal);
    expect(off.config.alerts.email).toBeUndefined();

    const withFile = await runInterview({
      ...minimal,
      email: true,
      'email.smtp_host': 'smtp.example.com',
      'email.from': attempts('salt-master', 'salt-master@example.com'),
      'email.to': attempts('ops@example.com, nobody', 'ops@example.com, oncall@example.com'),
      'email.username': 'salt-master@example.com',
    });
    expect(withFile.config.alerts.email).toEqual({
      smtp_host: 'smtp.example.com',
      smtp_port: 587,
      tls: true,
      from: 'salt-master@example.com',
      to: ['ops@example.com', 'oncall@example.com'],
      username: 'salt-master@example.com',
      password_file: '/etc/salt/smtp-password',
      subject: 'salt-autoscale',
    });
    expect(withFile.text).not.toContain('mode 0600');
    expect(withFile.prompter.rejected.map((r) => r.problem)).toEqual([
      '"salt-master" is not an email address.',
      '"nobody" is not an email address.',
    ]);

    const typed = await runInterview({
      ...minimal,
      email: true,
      'email.smtp_host': 'smtp.example.com',
      'email.smtp_port': '465',
      'email.tls': false,
      'email.from': 'a@example.com',
      'email.to': 'b@example.com',
      'email.username': 'a@example.com',
      'email.password_source': 'inline',
      'email.password': 'p4ss: "#word\'',
    });
    expect(typed.config.alerts.email).toMatchObject({ smtp_port: 465, tls: false, password: 'p4ss: "#word\'' });
    expect(typed.config.alerts.email?.password_file).toBeUndefined();
    expect(typed.text).toContain('mode 0600');

    const noLogin = await runInterview({
      ...minimal,
      email: true,
      'email.smtp_host': 'localhost',
      'email.smtp_port': '25',
      'email.tls': false,
      'email.from': 'a@example.com',
      'email.to': 'b@example.com',
    });
    expect(noLogin.prompter.asked).not.toContain('email.password_source');
    expect(noLogin.config.alerts.email?.username).toBeUndefined();
  });

  it('offers the groups found in AWS as a checklist, with a way to add others', async () => {
    const lookups: GroupLookup[] = [];
    const listGroupNames: ListGroupNames = async (lookup) => {
      lookups.push(lookup);
      return ['api-asg', 'web-asg', 'worker-asg'];
    };
    const { prompter, config } = await runInterview(
      {
        region: 'eu-west-1',
        groups: ['web-asg', '\u0000other'],
        'groups.other': 'future-asg',
        public_url: minimal.public_url,
      },
      context({
        listGroupNames,
        endpoint: 'http://127.0.0.1:1234',
        profiles: ['default', 'prod'],
        preset: { profile: 'prod' },
      }),
    );
    expect(lookups).toEqual([{ region: 'eu-west-1', profile: 'prod', endpoint: 'http://127.0.0.1:1234' }]);
    const choices = (prompter.questions.get('groups')!.choices as { value: string }[]).map((c) => c.value);
    expect(choices).toEqual(['api-asg', 'web-asg', 'worker-asg', '\u0000other']);
    expect(Object.keys(config.groups)).toEqual(['web-asg', 'future-asg']);
    expect(config.aws.profile).toBe('prod');
  });

  it('an empty checklist is refused', async () => {
    const { prompter } = await runInterview(
      { groups: attempts([], ['web-asg']), public_url: minimal.public_url },
      context({ listGroupNames: async () => ['web-asg'] }),
    );
    expect(prompter.rejected).toEqual([
      { name: 'groups', value: [], problem: 'Tick at least one group (Space ticks).' },
    ]);
  });

  it('falls back to typed names, saying why, when AWS cannot be asked or has no groups', async () => {
    const failing = await runInterview(
      minimal,
      context({
        listGroupNames: async () => {
          throw Object.assign(new Error('Could not load credentials from any providers'), {
            name: 'CredentialsProviderError',
          });
        },
      }),
    );
    expect(failing.prompter.notes.join('\n')).toContain(
      'Could not list the groups (CredentialsProviderError: Could not load credentials from any providers); type their names instead.',
    );
    expect(failing.prompter.asked).toContain('groups.names');

    const empty = await runInterview(minimal, context({ listGroupNames: async () => [] }));
    expect(empty.prompter.notes.join('\n')).toContain('No Auto Scaling groups in us-east-1 yet');
    expect(empty.config.groups['web-asg']).toBeDefined();
  });

  it('offers the named AWS profiles, preferring AWS_PROFILE, and skips the question when there are none', async () => {
    const withProfiles = await runInterview(
      minimal,
      context({ profiles: ['default', 'prod', 'staging'], defaultProfile: 'staging' }),
    );
    const q = withProfiles.prompter.questions.get('profile')!;
    expect(q.default).toBe('staging');
    expect((q.choices as { value: string }[]).map((c) => c.value)).toEqual(['', 'prod', 'staging']);
    expect(withProfiles.config.aws.profile).toBe('staging');

    const chain = await runInterview({ ...minimal, profile: '' }, context({ profiles: ['default', 'prod'] }));
    expect(chain.config.aws.profile).toBeUndefined();

    const none = await runInterview(minimal, context({ profiles: ['default'] }));
    expect(none.prompter.asked).not.toContain('profile');
  });

  it('answers given as flags or in an answers file become the defaults', async () => {
    const preset = {
      region: 'ap-southeast-2',
      public_url: 'https://salt.example.net:9443',
      topic_name: 'asg-events',
      groups: [{ name: 'web-asg', bootstrap: 'salt-cloud' as const, ssh_username: 'admin' }],
      keyname: 'kp',
      private_key: '/etc/salt/kp.pem',
    };
    const { prompter, answers } = await runInterview({}, context({ preset }));
    expect(prompter.questions.get('groups.names')?.default).toBe('web-asg');
    expect(answers).toMatchObject<Partial<InitAnswers>>({
      region: 'ap-southeast-2',
      public_url: 'https://salt.example.net:9443',
      api_port: 9443,
      topic_name: 'asg-events',
      groups: [{ name: 'web-asg', bootstrap: 'salt-cloud', ssh_username: 'admin' }],
      keyname: 'kp',
    });
  });

  it('every combination of modes, credentials and email settings leads to a file that loads', async () => {
    const modes = { preauth: ['preauth'], 'salt-cloud': ['salt-cloud'], mixed: ['salt-cloud', 'preauth'] };
    const emails: Record<string, Record<string, ScriptedAnswer>> = {
      off: { email: false },
      file: {
        email: true,
        'email.smtp_host': 'smtp',
        'email.from': 'a@example.com',
        'email.to': 'b@example.com',
        'email.username': 'u',
      },
      inline: {
        email: true,
        'email.smtp_host': 'smtp',
        'email.from': 'a@example.com',
        'email.to': 'b@example.com',
        'email.username': 'u',
        'email.password_source': 'inline',
        'email.password': 'pw',
      },
      'no login': {
        email: true,
        'email.smtp_host': 'smtp',
        'email.from': 'a@example.com',
        'email.to': 'b@example.com',
      },
    };
    let runs = 0;
    for (const [, groupModes] of Object.entries(modes)) {
      for (const credentials of ['instance-role', 'keys']) {
        for (const email of Object.values(emails)) {
          const script: Record<string, ScriptedAnswer> = {
            ...minimal,
            ...email,
            'groups.names': groupModes.map((_, i) => `g${i}`).join(','),
          };
          groupModes.forEach((m, i) => {
            script[`group.g${i}.bootstrap`] = m;
          });
          Object.assign(script, {
            credentials,
            access_key_id: 'AKIAIOSFODNN7EXAMPLE',
            secret_access_key: 'k',
            keyname: 'kp',
            private_key: '/k.pem',
          });
          const prompter = scriptedPrompter(script, { unscripted: 'default' });
          const answers = await interview(prompter, context());
          expect(() => parseConfigText(configYaml(answers), 'x.yaml')).not.toThrow();
          runs++;
        }
      }
    }
    expect(runs).toBe(24);
  });

  it('Ctrl-C at any question ends the interview with the error src/cli.ts maps to exit 130', async () => {
    const prompter = scriptedPrompter({ ...minimal, api_port: INTERRUPT }, { unscripted: 'default' });
    await expect(interview(prompter, context())).rejects.toMatchObject({ name: 'ExitPromptError' });
    expect(prompter.asked.at(-1)).toBe('api_port');
  });
});
