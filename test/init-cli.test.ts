// `salt-autoscale init` as a script runs it: the built bin, spawned in a scratch folder, with flags or an
// answers file and no terminal.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runInProcess } from './helpers/run-cli.js';
import { cleanEnv, run, SECRET, scratchFolders } from './init-helpers.js';

const dir = scratchFolders();
const configPath = () => join(dir(), 'salt-autoscale.yaml');

describe('init --yes (no questions)', () => {
  it('writes a valid config from flags alone and prints the next steps', async () => {
    const r = await run(
      dir(),
      [
        'init',
        '--yes',
        '--region',
        'eu-west-1',
        '--group',
        'web-asg:salt-cloud',
        '--group',
        'worker-asg',
        '--public-url',
        'https://salt.example.com:8000',
        '--ssh-username',
        'ubuntu',
        '--keyname',
        'salt-master',
        '--private-key',
        '/etc/salt/pki/cloud/salt-master.pem',
        '--security-group',
        'salt-minions',
        '--email-to',
        'ops@example.com',
        '--email-to',
        'oncall@example.com',
        '--email-from',
        'salt@example.com',
        '--smtp-host',
        'smtp.example.com',
        '--no-smtp-tls',
        '--smtp-port',
        '25',
      ],
      { spawn: true },
    ); // the built bin, once: the others run in-process
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { config } = await loadConfig(configPath());
    expect(config.aws.region).toBe('eu-west-1');
    expect(config.groups['web-asg']).toMatchObject({
      bootstrap: 'salt-cloud',
      ssh_username: 'ubuntu',
      provider: 'ec2-autoscale',
    });
    expect(config.groups['worker-asg']).toMatchObject({ bootstrap: 'attested', salt_version: '3007.14' }); // the default
    expect(config.cloud_provider).toMatchObject({
      keyname: 'salt-master',
      securitygroup: 'salt-minions',
      credentials: 'instance-role',
    });
    expect(config.alerts.email).toMatchObject({
      smtp_port: 25,
      tls: false,
      to: ['ops@example.com', 'oncall@example.com'],
    });
    expect(statSync(configPath()).mode & 0o777).toBe(0o644);
    expect(r.stdout).toContain('Wrote salt-autoscale.yaml.');
    expect(r.stdout).toContain('webhook: https://salt.example.com:8000/hook/ec2/autoscale');
    expect(r.stdout).toMatch(
      /salt-autoscale render --out \/etc\/salt[\s\S]*salt-autoscale provision[\s\S]*salt-autoscale status/,
    );
    expect(r.stdout).toContain('launch template user data of worker-asg');
  });

  it('takes the region from AWS_REGION and names --config in the next steps when it is not the default', async () => {
    const r = await run(
      dir(),
      ['init', '--yes', '-c', 'prod.yaml', '--group', 'a', '--public-url', 'https://s.example.com'],
      { env: cleanEnv(dir(), { AWS_REGION: 'sa-east-1' }) },
    );
    expect(r.code).toBe(0);
    expect((await loadConfig(join(dir(), 'prod.yaml'))).config.aws.region).toBe('sa-east-1');
    expect(r.stdout).toContain('salt-autoscale provision --config prod.yaml');
  });

  it('on the master itself, preauth groups default to the version of the salt-master found on PATH', async () => {
    const bin = join(dir(), 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'salt-master'), '#!/bin/sh\necho "salt-master 3006.9 (Sulfur)"\n', { mode: 0o755 });
    const env = cleanEnv(dir(), { PATH: `${bin}:${process.env.PATH}` });
    const r = await run(
      dir(),
      ['init', '--yes', '--region', 'us-east-1', '--group', 'a', '--public-url', 'https://s.example.com'],
      { env },
    );
    expect(r.code).toBe(0);
    expect((await loadConfig(configPath())).config.groups.a.salt_version).toBe('3006.9');
  });

  it('says so at once when the folder of --config does not exist', async () => {
    const r = await run(dir(), [
      'init',
      '--yes',
      '-c',
      'nowhere/salt-autoscale.yaml',
      '--region',
      'us-east-1',
      '--group',
      'a',
      '--public-url',
      'https://s.example.com',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot write nowhere/salt-autoscale.yaml: the folder nowhere does not exist');
  });

  it('lists every missing answer with its flag, and writes nothing', async () => {
    const r = await run(dir(), ['init', '--yes', '--group', 'web:salt-cloud']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('init --yes needs these answers (missing, or not fitting together):');
    for (const flag of ['--region', '--public-url', '--ssh-username', '--keyname', '--private-key'])
      expect(r.stderr).toContain(`(${flag})`);
    expect(readdirSync(dir())).toEqual([]);
  });

  it('rejects wrong flag values, each named, and writes nothing', async () => {
    const r = await run(dir(), [
      'init',
      '--yes',
      '--region',
      'us-east-1',
      '--group',
      'web',
      '--public-url',
      'http://salt.example.com',
      '--api-port',
      '0',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--public-url: "http://salt.example.com" must use https://');
    expect(r.stderr).toContain('--api-port: "0" is not a TCP port');
    expect(readdirSync(dir())).toEqual([]);
  });

  it('reads an answers file (YAML), keeps its secrets out of the output, and writes the file 0600', async () => {
    writeFileSync(
      join(dir(), 'answers.yaml'),
      [
        'region: us-west-2',
        'groups:',
        '  web-asg: {bootstrap: salt-cloud, ssh_username: ec2-user}',
        '  worker-asg: {salt_version: "3008"}',
        'public_url: https://salt.example.com',
        'master_address: salt.internal',
        'credentials: keys',
        'access_key_id: AKIAIOSFODNN7EXAMPLE',
        `secret_access_key: ${SECRET}`,
        'keyname: kp',
        'private_key: /etc/salt/kp.pem',
        'email: {smtp_host: smtp.example.com, from: a@example.com, to: b@example.com, username: a@example.com, password: "hunter2-smtp"}',
      ].join('\n'),
    );
    const r = await run(dir(), ['init', '--yes', '--answers', 'answers.yaml', '--topic-name', 'from-flag']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(configPath()).mode & 0o777).toBe(0o600);
    expect(r.stdout).toContain('mode 0600: it holds a secret');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain('hunter2-smtp');
    const { config } = await loadConfig(configPath());
    expect(config.cloud_provider).toMatchObject({ credentials: 'keys', id: 'AKIAIOSFODNN7EXAMPLE', key: SECRET });
    expect(config.salt.master_address).toBe('salt.internal');
    expect(config.salt_api?.port).toBe(443);
    expect(config.sns.topic_name).toBe('from-flag'); // a flag wins over the file
    expect(config.alerts.email?.password).toBe('hunter2-smtp');
  });

  it('takes the numbers of an answers file exactly as written, and refuses a binary file without echoing it', async () => {
    writeFileSync(
      join(dir(), 'answers.yaml'),
      [
        'region: us-west-2',
        'groups: {workers: {salt_version: 3006.10}}',
        'public_url: https://salt.example.com',
        'email: {smtp_host: smtp.example.com, from: a@example.com, to: b@example.com, username: u, password: 0012345}',
        '',
      ].join('\n'),
    );
    const r = await runInProcess(['init', '--yes', '--answers', 'answers.yaml'], {
      cwd: dir(),
      env: cleanEnv(dir()),
      wholeEnv: true,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { config } = await loadConfig(configPath());
    expect(config.groups.workers.salt_version).toBe('3006.10');
    expect(config.alerts.email?.password).toBe('0012345');
    expect(r.stdout).not.toContain('0012345');

    writeFileSync(join(dir(), 'binary.yaml'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0x1b, 0x5b, 0x32, 0x4a]));
    const bin = await runInProcess(['init', '--yes', '--answers', 'binary.yaml', '-c', 'b.yaml'], {
      cwd: dir(),
      env: cleanEnv(dir()),
      wholeEnv: true,
    });
    expect(bin.code).toBe(2);
    expect(bin.stderr).toBe(
      'salt-autoscale: binary.yaml: this is not a YAML text file (it holds binary data or is not UTF-8); expected an answers file.\n',
    );
  });

  it('reads an answers file in JSON too, and reports its mistakes by file and key', async () => {
    writeFileSync(
      join(dir(), 'answers.json'),
      JSON.stringify({ region: 'us-east-1', groups: ['a'], public_url: 'https://s.example.com' }),
    );
    expect((await run(dir(), ['init', '--yes', '--answers', 'answers.json'])).code).toBe(0);

    writeFileSync(join(dir(), 'bad.json'), JSON.stringify({ region: 'us-east-1', groups: 'a', publicurl: 'x' }));
    const r = await run(dir(), ['init', '--yes', '--answers', 'bad.json', '-c', 'other.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.json: groups is the text "a"; expected a list of group names');
    expect(r.stderr).toContain('bad.json: publicurl is not a known answer');
    expect(readdirSync(dir()).sort()).toEqual(['answers.json', 'bad.json', 'salt-autoscale.yaml']);

    writeFileSync(join(dir(), 'broken.json'), '{"region": "us-east-1",\n "groups": [');
    const broken = await run(dir(), ['init', '--yes', '--answers', 'broken.json', '-c', 'other.yaml']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^salt-autoscale: broken\.json:2:\d+: invalid YAML\/JSON: /);
  });

  it('refuses to overwrite an existing config unless --force', async () => {
    writeFileSync(configPath(), 'mine\n');
    const args = ['init', '--yes', '--region', 'us-east-1', '--group', 'a', '--public-url', 'https://s.example.com'];
    const refused = await run(dir(), args);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(
      'salt-autoscale.yaml already exists; nothing was changed. Pass --force to overwrite it',
    );
    expect(readFileSync(configPath(), 'utf8')).toBe('mine\n');

    const forced = await run(dir(), [...args, '--force']);
    expect(forced.code).toBe(0);
    expect((await loadConfig(configPath())).config.groups.a).toBeDefined();
    expect(readdirSync(dir())).toEqual(['salt-autoscale.yaml']); // no temp file left over
  });
});

describe('init without a terminal', () => {
  it('explains how to run it non-interactively instead of waiting for answers', async () => {
    const r = await run(dir(), ['init']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('init asks questions, but this is not a terminal');
    expect(r.stderr).toContain('salt-autoscale init --yes --answers answers.yaml');
    expect(readdirSync(dir())).toEqual([]);
  });
});

describe('what init loads', () => {
  // A module hook that fails any import of inquirer or the AWS SDK: a command that loads them breaks loudly.
  const poison = () => {
    const hooks = join(dir(), 'poison-hooks.mjs');
    writeFileSync(
      hooks,
      `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (/[\\\\/]node_modules[\\\\/](inquirer|@inquirer|@aws-sdk)[\\\\/]/.test(result.url)) throw new Error('loaded ' + specifier);
  return result;
}\n`,
    );
    const register = join(dir(), 'poison.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + hooks)});\n`,
    );
    return ['--import', register];
  };

  it('--help, other commands and init --yes load neither inquirer nor the AWS SDK', async () => {
    const nodeArgs = poison();
    const control = await new Promise<number | null>((done) => {
      const c = spawn(process.execPath, [...nodeArgs, '--input-type=module', '-e', "await import('inquirer')"], {
        cwd: resolve('.'),
      });
      c.on('close', done);
    });
    expect(control).not.toBe(0); // the hook does catch an import of inquirer

    expect((await run(dir(), ['--help'], { nodeArgs })).code).toBe(0);
    const init = await run(
      dir(),
      ['init', '--yes', '--region', 'us-east-1', '--group', 'a', '--public-url', 'https://s.example.com'],
      { nodeArgs },
    );
    expect(init.stderr).not.toContain('loaded ');
    expect(init.code).toBe(0);
    const render = await run(dir(), ['render', '--config', 'salt-autoscale.yaml', '--out', 'out'], { nodeArgs });
    expect(render.stderr).not.toContain('loaded ');
  });
});
