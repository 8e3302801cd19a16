// render end to end: the files, their parse-back, idempotence, conflicts, errors. The first test runs the built
// bin (a smoke test of the shipped entry); the others run in-process through the same CLI and I/O layer.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gateFiles } from '../src/render/gate-files.js';
import { pyYamlLoad } from './helpers/python.js';
import { EXAMPLE, runCli, runInProcess } from './helpers/run-cli.js';
import { tempDir } from './helpers/tmp.js';

/** The gate package's modules and MANIFEST, rendered beside the reactor. */
const GATE_FILES = gateFiles('/reactor').length;

const FILES = [
  'master.d/ec2-autoscale.conf',
  'cloud.providers.d/ec2.conf',
  'reactor/ec2-autoscale.sls',
  'userdata/worker-asg.sh',
];

/** 1-based line number of `text` in the example config. */
function lineOf(text: string): number {
  return (
    readFileSync(EXAMPLE, 'utf8')
      .split('\n')
      .findIndex((l) => l.startsWith(text)) + 1
  );
}

function exampleWith(edit: (text: string) => string, dir: string): string {
  const file = join(dir, 'salt-autoscale.yaml');
  writeFileSync(file, edit(readFileSync(EXAMPLE, 'utf8')));
  return file;
}

describe('render on the example config', () => {
  it('writes the three files, which Salt can read, and a second run changes nothing', async () => {
    const out = join(tempDir(), 'out');
    const first = await runCli(['render', '--config', EXAMPLE, '--out', out]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    for (const f of FILES) expect(first.stdout).toMatch(new RegExp(`created\\s+\\S*${f.replace(/\./g, '\\.')}`));
    expect(first.stdout).toContain(`${4 + GATE_FILES} files: ${4 + GATE_FILES} created, 0 updated, 0 unchanged`);

    const [master, provider] = pyYamlLoad(FILES.slice(0, 2).map((f) => readFileSync(join(out, f), 'utf8'))) as any[];
    expect(master.rest_cherrypy).toEqual({
      host: '0.0.0.0',
      port: 8000,
      ssl_crt: '/etc/pki/tls/certs/salt-api.crt',
      ssl_key: '/etc/pki/tls/private/salt-api.key',
      webhook_url: '/hook',
      webhook_disable_auth: true,
    });
    // web-asg has a launch hook in the example: the readiness events are mapped too (test/render-lifecycle.test.ts).
    const sls = ['/srv/reactor/ec2-autoscale.sls'];
    expect(master.reactor).toEqual([
      { 'salt/netapi/hook/ec2/autoscale': sls },
      { 'salt/auth': sls },
      { 'salt/minion/*/start': sls },
      { 'salt/job/*/ret/*': sls },
    ]);
    expect(master['ec2.autoscale'].topic_arns).toEqual(['arn:aws:sns:us-east-1:123456789012:salt-autoscale']);
    expect(master['ec2.autoscale'].groups['web-asg']).toMatchObject({
      bootstrap: 'salt-cloud',
      provider: 'ec2-autoscale',
      settings: { ssh_username: 'ec2-user', minion: { grains: { role: 'web' } } },
    });
    expect(master['ec2.autoscale'].groups['worker-asg'].bootstrap).toBe('preauth');
    expect(Object.keys(master).some((k) => k.startsWith('smtp.'))).toBe(false);
    expect(provider['ec2-autoscale']).toMatchObject({
      driver: 'ec2',
      id: 'use-instance-role-credentials',
      key: 'use-instance-role-credentials',
      location: 'us-east-1',
      minion: { master: 'salt.example.com' },
    });
    expect(statSync(join(out, 'cloud.providers.d/ec2.conf')).mode & 0o777).toBe(0o644);

    const reactor = join(out, 'reactor/ec2-autoscale.sls');
    expect(readFileSync(reactor, 'utf8').split('\n')[0]).toBe('#!py');
    const compiled = spawnSync('python3', [
      '-c',
      'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")',
      reactor,
    ]);
    expect(compiled.stderr.toString()).toBe('');
    expect(compiled.status).toBe(0);

    const mtimes = FILES.map((f) => statSync(join(out, f)).mtimeMs);
    const second = await runCli(['render', '--config', EXAMPLE, '--out', out]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`${4 + GATE_FILES} files, all unchanged: nothing to do.`);
    expect(FILES.map((f) => statSync(join(out, f)).mtimeMs)).toEqual(mtimes);
  });

  it('--dry-run says what it would write and writes nothing', async () => {
    const out = join(tempDir(), 'out');
    const res = await runInProcess(['render', '-c', EXAMPLE, '-o', out, '--dry-run']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('would create');
    expect(res.stdout).toContain('dry run, nothing written');
    expect(existsSync(out)).toBe(false);
  });

  it('puts the reactor in salt.reactor_dir when --out is the Salt config dir', async () => {
    const dir = tempDir();
    const config = exampleWith(
      (t) =>
        t
          .replace('config_dir: /etc/salt', `config_dir: ${dir}/etc/salt`)
          .replace('reactor_dir: /srv/reactor', `reactor_dir: ${dir}/srv/reactor`),
      dir,
    );
    mkdirSync(`${dir}/etc/salt`, { recursive: true });
    writeFileSync(
      `${dir}/etc/salt/master`,
      'interface: 0.0.0.0\nreactor:\n  - salt/auth:\n      - /srv/reactor/auth.sls\n',
    );
    const res = await runInProcess(['render', '-c', config, '-o', `${dir}/etc/salt`]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(
      `warning: ${dir}/etc/salt/master sets \`reactor:\`; master.d/ec2-autoscale.conf replaces it`,
    );
    expect(readFileSync(`${dir}/etc/salt/master`, 'utf8')).toContain('salt/auth'); // never touched
    expect(existsSync(`${dir}/srv/reactor/ec2-autoscale.sls`)).toBe(true);
    expect(existsSync(`${dir}/etc/salt/reactor`)).toBe(false);
    const master = parse(readFileSync(`${dir}/etc/salt/master.d/ec2-autoscale.conf`, 'utf8'));
    expect(master.reactor[0]['salt/netapi/hook/ec2/autoscale']).toEqual([`${dir}/srv/reactor/ec2-autoscale.sls`]);
  });
});

describe('render refuses to lose anything', () => {
  it('does not overwrite a file that differs without --force; --diff shows the change; --force writes it', async () => {
    const out = join(tempDir(), 'out');
    await runInProcess(['render', '-c', EXAMPLE, '-o', out]);
    const target = join(out, 'master.d/ec2-autoscale.conf');
    const edited = readFileSync(target, 'utf8').replace('port: 8000', 'port: 9999');
    writeFileSync(target, edited);

    const refused = await runInProcess(['render', '-c', EXAMPLE, '-o', out]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('this file was edited by hand since render wrote it');
    expect(refused.stderr).toContain('master.d/ec2-autoscale.conf');
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(target, 'utf8')).toBe(edited);

    const diff = await runInProcess(['render', '-c', EXAMPLE, '-o', out, '--diff', '--dry-run']);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/edited by hand\s+\S*master\.d\/ec2-autoscale\.conf/);
    expect(diff.stdout).toContain('1 edited by hand (to replace them, add --force)');
    expect(diff.stdout).toMatch(/^-\s+port: 9999\n\+\s+port: 8000$/m); // removal first, as diff -u prints it
    expect(diff.stdout).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@$/m);
    expect(readFileSync(target, 'utf8')).toBe(edited);

    const forced = await runInProcess(['render', '-c', EXAMPLE, '-o', out, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/replaced\s+\S*master\.d\/ec2-autoscale\.conf/);
    expect(readFileSync(target, 'utf8')).toContain('port: 8000');
  });

  it('re-renders after a config change without --force: its own earlier output is replaced, and says which files', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    await runInProcess(['render', '-c', EXAMPLE, '-o', out]);
    const config = exampleWith((t) => t.replace('  port: 8000', '  port: 8443'), dir);
    const res = await runInProcess(['render', '-c', config, '-o', out]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/updated\s+\S*master\.d\/ec2-autoscale\.conf/);
    expect(res.stdout).toMatch(/unchanged\s+\S*cloud\.providers\.d\/ec2\.conf/);
    expect(res.stdout).toContain(`${4 + GATE_FILES} files: 0 created, 1 updated, ${3 + GATE_FILES} unchanged`);
    expect(readFileSync(join(out, 'master.d/ec2-autoscale.conf'), 'utf8')).toContain('  port: 8443\n');
  });

  it('writes all files or none: a failure half-way leaves earlier files as they were and no temp files', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    await runInProcess(['render', '-c', EXAMPLE, '-o', out]);
    const before = readFileSync(join(out, 'master.d/ec2-autoscale.conf'), 'utf8');
    // The reactor's folder becomes a plain file, so staging the third file fails after the first two.
    rmSync(join(out, 'reactor'), { recursive: true });
    writeFileSync(join(out, 'reactor'), 'not a folder');
    const config = exampleWith((t) => t.replace('port: 8000', 'port: 8443'), dir);
    const res = await runInProcess(['render', '-c', config, '-o', out, '--force']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('reactor');
    expect(readFileSync(join(out, 'master.d/ec2-autoscale.conf'), 'utf8')).toBe(before);
    for (const sub of ['master.d', 'cloud.providers.d']) {
      expect(readdirSync(join(out, sub)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    }
  });
});

describe('secrets', () => {
  it('writes key files 0600 and never prints a secret, not even in --diff', async () => {
    const dir = tempDir();
    const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const smtpPassword = 'p@ss: "w0rd" # not a comment';
    const config = exampleWith(
      (t) =>
        t
          .replace(
            'credentials: instance-role',
            `credentials: keys\n  id: AKIAIOSFODNN7EXAMPLE\n  key: ${JSON.stringify(secretKey)}`,
          )
          .replace(
            / {2}# email:[\s\S]*?password_file: \/etc\/salt\/smtp-password\n/,
            `  email:\n    smtp_host: smtp.example.com\n    from: salt@example.com\n    to: [ops@example.com]\n    username: salt\n    password: ${JSON.stringify(smtpPassword)}\n`,
          ),
      dir,
    );
    const out = join(dir, 'out');
    const first = await runInProcess(['render', '-c', config, '-o', out, '--diff']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(existsSync(out)).toBe(false); // --diff is a preview
    expect((await runInProcess(['render', '-c', config, '-o', out])).code).toBe(0);
    expect(statSync(join(out, 'cloud.providers.d/ec2.conf')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'master.d/ec2-autoscale.conf')).mode & 0o777).toBe(0o600);
    const [master, provider] = pyYamlLoad([
      readFileSync(join(out, 'master.d/ec2-autoscale.conf'), 'utf8'),
      readFileSync(join(out, 'cloud.providers.d/ec2.conf'), 'utf8'),
    ]) as any[];
    expect(provider['ec2-autoscale'].key).toBe(secretKey);
    expect(master['smtp.password']).toBe(smtpPassword);
    expect(master['smtp.to']).toBe('ops@example.com');

    // A changed secret: the diff of both the old and the new value is masked.
    const config2 = exampleWith(
      () => readFileSync(config, 'utf8').replace(secretKey, secretKey.replace('EXAMPLE', 'CHANGED')),
      dir,
    );
    const second = await runInProcess(['render', '-c', config2, '-o', out, '--diff']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('cloud.providers.d/ec2.conf: only a secret value changes (masked)');
    const printed = first.stdout + second.stdout + second.stderr;
    expect(printed).toContain('********');
    expect(printed).not.toContain('EXAMPLEKEY');
    expect(printed).not.toContain('CHANGEDKEY');
    expect(printed).not.toContain('w0rd');
  });
});

describe('bad config files', () => {
  const cases: { name: string; edit: (t: string) => string; expect: RegExp[] }[] = [
    {
      name: 'a missing key',
      edit: (t) => t.replace('  master_address: salt.example.com  # what new minions connect to\n', ''),
      // A missing key is reported at its parent's key, `salt:`.
      expect: [
        new RegExp(`salt-autoscale\\.yaml:${lineOf('salt:')}:1: salt\\.master_address is missing`),
        /DNS name or IP address/,
      ],
    },
    {
      name: 'a wrong type',
      edit: (t) => t.replace('  port: 8000', '  port: eight-thousand'),
      expect: [
        new RegExp(
          `salt-autoscale\\.yaml:${lineOf('  port: 8000')}:9: salt_api\\.port is the string "eight-thousand", not a whole number; expected a TCP port`,
        ),
      ],
    },
    {
      name: 'an unknown key (a typo)',
      edit: (t) => t.replace('  ssh_username: ec2-user', '  ssh_usrname: ec2-user'),
      expect: [
        /salt-autoscale\.yaml:\d+:5: groups\.web-asg\.ssh_usrname is not a known setting/,
        /did you mean ssh_username\?/,
      ],
    },
    {
      name: 'invalid YAML',
      edit: (t) => t.replace('  region: us-east-1', '  region: "us-east-1'),
      expect: [/salt-autoscale\.yaml:\d+:\d+: invalid YAML/],
    },
    {
      name: 'an http endpoint without allow_http',
      edit: (t) => t.replace('public_url: https://', 'public_url: http://'),
      expect: [/salt_api\.public_url uses http:\/\//, /allow_http/],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: a clear error naming file, line and key; exit 2; nothing written`, async () => {
      const dir = tempDir();
      const config = exampleWith(c.edit, dir);
      const out = join(dir, 'out');
      const res = await runInProcess(['render', '-c', config, '-o', out]);
      expect(res.code).toBe(2);
      for (const re of c.expect) expect(res.stderr).toMatch(re);
      expect(res.stdout).toBe('');
      expect(existsSync(out)).toBe(false);
    });
  }

  it('a missing config file says how to make one', async () => {
    const dir = tempDir();
    const res = await runInProcess(['render', '-o', join(dir, 'out')], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('salt-autoscale.yaml: no such file');
    expect(res.stderr).toContain('salt-autoscale init');
  });

  it('a non-writable target is an error that names the path', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 'master.d'), 'a file where a folder should be');
    const res = await runInProcess(['render', '-c', EXAMPLE, '-o', join(dir, 'out')]);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('master.d');
    mkdirSync(join(dir, 'out2', 'master.d', 'ec2-autoscale.conf'), { recursive: true });
    const folder = await runInProcess(['render', '-c', EXAMPLE, '-o', join(dir, 'out2')]);
    expect(folder.code).toBe(3);
    expect(folder.stderr).toBe(
      `salt-autoscale: cannot write ${join(dir, 'out2', 'master.d', 'ec2-autoscale.conf')}: it exists and is not a regular file\n`,
    );
  });
});
