// preauth user data: one script per preauth group, valid shell, no secret, and it really does what it says
// when run (with fake curl and systemctl on PATH standing in for IMDS, the bootstrap script and systemd).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/schema.js';
import { renderFiles } from '../src/render/files.js';
import { pyYamlLoad } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { requireTool } from './helpers/tools.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY';

function render(groups: Record<string, unknown>) {
  const { config, problems } = validateConfig({
    version: 1,
    aws: { region: 'us-east-1' },
    sns: { topic_name: 't', topic_arn: 'arn:aws:sns:us-east-1:123456789012:t' },
    salt_api: { public_url: 'https://salt.example.com', ssl_crt: '/c', ssl_key: '/k' },
    // A host name can hold nothing a shell would run (the schema checks it), so the hostile value is a grain.
    salt: { master_address: 'salt-master.internal' },
    cloud_provider: {
      credentials: 'keys',
      id: 'AKIAIOSFODNN7EXAMPLE',
      key: SECRET,
      keyname: 'salt',
      private_key: '/etc/salt/salt.pem',
    },
    groups,
    alerts: { email: { smtp_host: 'smtp', from: 'a@b', to: 'c@d', username: 'u', password: 'smtp-secret-pw' } },
  });
  if (!config) throw new Error(JSON.stringify(problems));
  return renderFiles(config, { outDir: '/out', configFile: 'salt-autoscale.yaml' });
}

const mixed = {
  'web-asg': { bootstrap: 'salt-cloud', ssh_username: 'ec2-user' },
  'workers/blue green': {
    bootstrap: 'preauth',
    salt_version: '3007.14',
    minion: { grains: { role: "it's a worker $(id) `id`" }, startup_states: 'highstate' },
  },
  batch: { bootstrap: 'preauth', salt_version: 'latest' },
};

describe('preauth user data', () => {
  it('is written for each preauth group only, with safe file names, valid shell, and no secret', () => {
    const out = render(mixed);
    const userData = out.filter((f) => f.path.startsWith('/out/userdata/'));
    expect(userData.map((f) => f.path.replace('/out/userdata/', '')).sort()).toEqual([
      'batch.sh',
      expect.stringMatching(/^workers_blue_green-[0-9a-f]{8}\.sh$/),
    ]);
    const dir = tempDir();
    for (const f of userData) {
      const file = join(dir, 'ud.sh');
      writeFileSync(file, f.content);
      const syntax = spawnSync('sh', ['-n', file], { encoding: 'utf8' });
      expect(syntax.stderr).toBe('');
      expect(syntax.status).toBe(0);
      requireTool('shellcheck');
      const lint = spawnSync('shellcheck', ['-s', 'sh', '-S', 'warning', file], { encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
      expect(f.content).not.toContain(SECRET);
      expect(f.content).not.toContain('smtp-secret-pw');
      expect(f.content).not.toContain('AKIAIOSFODNN7EXAMPLE');
    }
    const master = pyYamlLoad([out[0].content])[0] as Record<string, unknown>;
    expect(master.autosign_timeout).toBe(120);
  });

  it('a config with no preauth group renders no user data and no autosign_timeout', () => {
    const out = render({ 'web-asg': { bootstrap: 'salt-cloud', ssh_username: 'ec2-user' } });
    expect(out.some((f) => f.path.includes('/userdata/'))).toBe(false);
    expect(out[0].content).not.toContain('autosign_timeout');
  });

  it('run on an instance: names the minion after the instance id, installs once, converges on re-run', () => {
    const script = render(mixed).find((f) => f.path.includes('workers_blue_green'))!.content;
    const dir = tempDir();
    const bin = join(dir, 'bin');
    const etc = join(dir, 'etc-salt');
    const calls = join(dir, 'calls.log');
    mkdirSync(bin);
    const fake = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> "${calls}"\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    // IMDSv2 (token, then instance id) and the bootstrap script download.
    fake(
      'curl',
      `case "$*" in
  *api/token*) echo TOKEN123 ;;
  *meta-data/instance-id*) case "$*" in *"X-aws-ec2-metadata-token: TOKEN123"*) echo i-0123456789abcdef0 ;; *) exit 22 ;; esac ;;
  *bootstrap-salt.sh*) while [ "$1" != -o ]; do shift; done; printf '%s\\n' 'printf "#!/bin/sh\\n" > "$FAKE_BIN/salt-minion"; chmod +x "$FAKE_BIN/salt-minion"; echo "bootstrap $*" >> "$CALLS"' > "$2" ;;
esac`,
    );
    fake('systemctl', '');
    const env = { ...process.env, PATH: `${bin}:/usr/bin:/bin`, SALT_CONFIG_DIR: etc, FAKE_BIN: bin, CALLS: calls };
    const file = join(dir, 'user-data.sh');
    writeFileSync(file, script);
    for (let run = 0; run < 2; run++) {
      const res = spawnSync('sh', [file], { env, encoding: 'utf8' });
      expect(res.status, res.stderr).toBe(0);
    }
    expect(readFileSync(join(etc, 'minion_id'), 'utf8')).toBe('i-0123456789abcdef0\n');
    const [conf] = pyYamlLoad([readFileSync(join(etc, 'minion.d/salt-autoscale.conf'), 'utf8')]) as any[];
    expect(conf).toEqual({
      master: 'salt-master.internal',
      grains: { role: "it's a worker $(id) `id`" },
      startup_states: 'highstate',
    });
    const log = readFileSync(calls, 'utf8');
    expect(log.match(/^bootstrap /gm)).toEqual(['bootstrap ']); // installed on the first run only
    expect(log).toContain('bootstrap -X stable 3007.14');
    expect(log.match(/^systemctl restart salt-minion$/gm)?.length).toBe(2);
  });
});
