// `salt-autoscale init` as a user runs it: the built bin, spawned, in a scratch folder. Interactive runs go
// through a real pseudo-terminal (python3's pty module relays keys, as a terminal would); group discovery
// talks to a small Auto Scaling stand-in on 127.0.0.1 through the SDK's own AWS_ENDPOINT_URL support.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';

const BIN = resolve('bin/salt-autoscale.js');
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'init-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** An environment with no AWS settings of the developer's leaking in, and no instance metadata to wait for. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return {
    ...env, HOME: dir, AWS_CONFIG_FILE: join(dir, 'no-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true', NO_COLOR: '1', ...extra,
  };
}

interface Result { code: number | null; stdout: string; stderr: string }

function run(args: string[], options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], { cwd: dir, env: options.env ?? cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end();
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

// A terminal for the child: python3 forks it onto a pty (120 columns) and relays our keys and its screen.
const PTY_RELAY = `
import os, pty, sys, select, fcntl, termios, struct
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
stdin_open = True
while True:
    r, _, _ = select.select([fd] + ([0] if stdin_open else []), [], [])
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        os.write(1, data)
    if 0 in r:
        data = os.read(0, 4096)
        if data:
            os.write(fd, data)
        else:
            stdin_open = False
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

const KEY = { enter: '\r', down: '\x1b[B', space: ' ', ctrlC: '\x03', clearLine: '\x15' };

class Terminal {
  private screen = '';
  private seen = 0;
  private readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    const child = spawn('python3', ['-c', PTY_RELAY, process.execPath, BIN, ...args], { cwd: dir, env });
    this.child = child;
    child.stdout.on('data', (d) => (this.screen += d));
    child.stderr.on('data', (d) => (this.screen += d));
    this.exited = new Promise((done) => child.on('close', done));
  }
  private readonly child: ReturnType<typeof spawn>;

  /** What the user saw, without colours and cursor movements. */
  get text(): string {
    return this.screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  }

  /** Waits until `pattern` shows up after what earlier waits consumed. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    for (;;) {
      const rest = this.text.slice(this.seen);
      const m = pattern.exec(rest);
      if (m) {
        this.seen += m.index + m[0].length;
        return;
      }
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${pattern}; the screen so far:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Answers the question matching `prompt` with `keys`. */
  async answer(prompt: RegExp, keys: string): Promise<void> {
    await this.waitFor(prompt);
    this.child.stdin!.write(keys);
  }

  async exitCode(): Promise<number | null> {
    this.child.stdin!.end();
    return this.exited;
  }
}

const configPath = () => join(dir, 'salt-autoscale.yaml');

describe('init --yes (no questions)', () => {
  it('writes a valid config from flags alone and prints the next steps', async () => {
    const r = await run([
      'init', '--yes', '--region', 'eu-west-1', '--group', 'web-asg:salt-cloud', '--group', 'worker-asg',
      '--public-url', 'https://salt.example.com:8000', '--ssh-username', 'ubuntu', '--keyname', 'salt-master',
      '--private-key', '/etc/salt/pki/cloud/salt-master.pem', '--security-group', 'salt-minions',
      '--email-to', 'ops@example.com', '--email-to', 'oncall@example.com', '--email-from', 'salt@example.com', '--smtp-host', 'smtp.example.com',
      '--no-smtp-tls', '--smtp-port', '25',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { config } = await loadConfig(configPath());
    expect(config.aws.region).toBe('eu-west-1');
    expect(config.groups['web-asg']).toMatchObject({ bootstrap: 'salt-cloud', ssh_username: 'ubuntu', provider: 'ec2-autoscale' });
    expect(config.groups['worker-asg']).toMatchObject({ bootstrap: 'preauth', salt_version: '3007.1' });
    expect(config.cloud_provider).toMatchObject({ keyname: 'salt-master', securitygroup: 'salt-minions', credentials: 'instance-role' });
    expect(config.alerts.email).toMatchObject({ smtp_port: 25, tls: false, to: ['ops@example.com', 'oncall@example.com'] });
    expect(statSync(configPath()).mode & 0o777).toBe(0o644);
    expect(r.stdout).toContain('Wrote salt-autoscale.yaml.');
    expect(r.stdout).toContain('webhook: https://salt.example.com:8000/hook/ec2/autoscale');
    expect(r.stdout).toMatch(/salt-autoscale render --out \/etc\/salt[\s\S]*salt-autoscale provision[\s\S]*salt-autoscale status/);
    expect(r.stdout).toContain('launch template user data of worker-asg');
  });

  it('takes the region from AWS_REGION and names --config in the next steps when it is not the default', async () => {
    const r = await run(['init', '--yes', '-c', 'prod.yaml', '--group', 'a', '--public-url', 'https://s.example.com'],
      { env: cleanEnv({ AWS_REGION: 'sa-east-1' }) });
    expect(r.code).toBe(0);
    expect((await loadConfig(join(dir, 'prod.yaml'))).config.aws.region).toBe('sa-east-1');
    expect(r.stdout).toContain('salt-autoscale provision --config prod.yaml');
  });

  it('on the master itself, preauth groups default to the version of the salt-master found on PATH', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'salt-master'), '#!/bin/sh\necho "salt-master 3006.9 (Sulfur)"\n', { mode: 0o755 });
    const env = cleanEnv({ PATH: `${bin}:${process.env.PATH}` });
    const r = await run(['init', '--yes', '--region', 'us-east-1', '--group', 'a', '--public-url', 'https://s.example.com'], { env });
    expect(r.code).toBe(0);
    expect((await loadConfig(configPath())).config.groups.a.salt_version).toBe('3006.9');
  });

  it('says so at once when the folder of --config does not exist', async () => {
    const r = await run(['init', '--yes', '-c', 'nowhere/salt-autoscale.yaml', '--region', 'us-east-1', '--group', 'a', '--public-url', 'https://s.example.com']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot write nowhere/salt-autoscale.yaml: the folder nowhere does not exist');
  });

  it('lists every missing answer with its flag, and writes nothing', async () => {
    const r = await run(['init', '--yes', '--group', 'web:salt-cloud']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('init --yes needs these answers, which have no default:');
    for (const flag of ['--region', '--public-url', '--ssh-username', '--keyname', '--private-key']) expect(r.stderr).toContain(`(${flag})`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects wrong flag values, each named, and writes nothing', async () => {
    const r = await run(['init', '--yes', '--region', 'us-east-1', '--group', 'web', '--public-url', 'http://salt.example.com', '--api-port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--public-url: "http://salt.example.com" must use https://');
    expect(r.stderr).toContain('--api-port: "0" is not a TCP port');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reads an answers file (YAML), keeps its secrets out of the output, and writes the file 0600', async () => {
    writeFileSync(join(dir, 'answers.yaml'), [
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
    ].join('\n'));
    const r = await run(['init', '--yes', '--answers', 'answers.yaml', '--topic-name', 'from-flag']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(configPath()).mode & 0o777).toBe(0o600);
    expect(r.stdout).toContain('mode 0600: it holds a secret');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain('hunter2-smtp');
    const { config } = await loadConfig(configPath());
    expect(config.cloud_provider).toMatchObject({ credentials: 'keys', id: 'AKIAIOSFODNN7EXAMPLE', key: SECRET });
    expect(config.salt.master_address).toBe('salt.internal');
    expect(config.salt_api.port).toBe(443);
    expect(config.sns.topic_name).toBe('from-flag'); // a flag wins over the file
    expect(config.alerts.email?.password).toBe('hunter2-smtp');
  });

  it('reads an answers file in JSON too, and reports its mistakes by file and key', async () => {
    writeFileSync(join(dir, 'answers.json'), JSON.stringify({ region: 'us-east-1', groups: ['a'], public_url: 'https://s.example.com' }));
    expect((await run(['init', '--yes', '--answers', 'answers.json'])).code).toBe(0);

    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ region: 'us-east-1', groups: 'a', publicurl: 'x' }));
    const r = await run(['init', '--yes', '--answers', 'bad.json', '-c', 'other.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.json: groups is the text "a"; expected a list of group names');
    expect(r.stderr).toContain('bad.json: publicurl is not a known answer');
    expect(readdirSync(dir).sort()).toEqual(['answers.json', 'bad.json', 'salt-autoscale.yaml']);
  });

  it('refuses to overwrite an existing config unless --force', async () => {
    writeFileSync(configPath(), 'mine\n');
    const args = ['init', '--yes', '--region', 'us-east-1', '--group', 'a', '--public-url', 'https://s.example.com'];
    const refused = await run(args);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('salt-autoscale.yaml already exists; nothing was changed. Pass --force to overwrite it');
    expect(readFileSync(configPath(), 'utf8')).toBe('mine\n');

    const forced = await run([...args, '--force']);
    expect(forced.code).toBe(0);
    expect((await loadConfig(configPath())).config.groups.a).toBeDefined();
    expect(readdirSync(dir)).toEqual(['salt-autoscale.yaml']); // no temp file left over
  });
});

describe('init without a terminal', () => {
  it('explains how to run it non-interactively instead of waiting for answers', async () => {
    const r = await run(['init']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('init asks questions, but this is not a terminal');
    expect(r.stderr).toContain('salt-autoscale init --yes --answers answers.yaml');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('init in a terminal', () => {
  it('asks, re-asks a wrong answer, takes defaults on Enter, never shows the secret, and writes the file', async () => {
    const t = new Terminal(['init'], cleanEnv({ AWS_DEFAULT_REGION: 'eu-west-2' }));
    await t.answer(/AWS region of the Auto Scaling groups \(eu-west-2\)/, KEY.enter);
    await t.waitFor(/Could not list the groups \(.+\); type their names instead\./);
    await t.answer(/Auto Scaling group names/, `web-asg, worker-asg${KEY.enter}`);
    await t.answer(/How do new instances of web-asg get their minion\?/, KEY.down + KEY.enter);
    await t.answer(/SSH user of web-asg's AMI .*\(ec2-user\)/, KEY.enter);
    await t.answer(/How do new instances of worker-asg get their minion\?/, KEY.enter);
    await t.answer(/Salt version worker-asg's instances install .*\(3007\.1\)/, `${KEY.clearLine}3008${KEY.enter}`);
    await t.answer(/Public https URL that SNS posts to/, `salt.example.com${KEY.enter}`);
    await t.answer(/"salt\.example\.com" is not an absolute URL\./, `${KEY.clearLine}https://salt.example.com:8000${KEY.enter}`);
    await t.answer(/Address salt-api binds \(0\.0\.0\.0\)/, KEY.enter);
    await t.answer(/Port salt-api listens on \(8000\)/, KEY.enter);
    await t.answer(/TLS certificate salt-api serves/, KEY.enter);
    await t.answer(/Its private key/, KEY.enter);
    await t.answer(/Address new minions use to reach the master \(salt\.example\.com\)/, KEY.enter);
    await t.answer(/salt-cloud provider name/, KEY.enter);
    await t.answer(/AWS credentials salt-cloud uses/, KEY.down + KEY.enter);
    await t.answer(/AWS access key id/, `AKIAIOSFODNN7EXAMPLE${KEY.enter}`);
    await t.answer(/AWS secret access key \(not shown\)/, SECRET + KEY.enter);
    await t.answer(/EC2 key pair name/, `salt-master${KEY.enter}`);
    await t.answer(/Path of that key pair's private key/, `/etc/salt/kp.pem${KEY.enter}`);
    await t.answer(/Security groups for salt-cloud/, KEY.enter);
    await t.answer(/Email alerts .*\(y\/N\)/, KEY.enter);
    await t.answer(/Name of the SNS topic .*\(salt-autoscale\)/, KEY.enter);
    expect(await t.exitCode()).toBe(0);

    expect(t.text).not.toContain(SECRET);
    expect(t.text).toContain('Wrote salt-autoscale.yaml (mode 0600: it holds a secret).');
    expect(t.text).toMatch(/Next steps:[\s\S]*salt-autoscale render --out \/etc\/salt/);
    expect(statSync(configPath()).mode & 0o777).toBe(0o600);
    const { config } = await loadConfig(configPath());
    expect(config.aws.region).toBe('eu-west-2');
    expect(config.groups).toMatchObject({
      'web-asg': { bootstrap: 'salt-cloud', ssh_username: 'ec2-user' },
      'worker-asg': { bootstrap: 'preauth', salt_version: '3008' },
    });
    expect(config.cloud_provider).toMatchObject({ credentials: 'keys', id: 'AKIAIOSFODNN7EXAMPLE', key: SECRET, keyname: 'salt-master' });
  });

  it('Ctrl-C at a question exits 130 and leaves nothing behind', async () => {
    const t = new Terminal(['init'], cleanEnv());
    await t.answer(/AWS region of the Auto Scaling groups/, KEY.enter);
    await t.answer(/Auto Scaling group names/, `web-asg${KEY.enter}`);
    await t.answer(/How do new instances of web-asg/, KEY.enter);
    await t.answer(/Salt version web-asg's instances install/, KEY.enter);
    await t.answer(/Public https URL/, KEY.ctrlC);
    expect(await t.exitCode()).toBe(130);
    expect(t.text).toContain('salt-autoscale: interrupted; nothing was written');
    expect(readdirSync(dir).filter((f) => !f.startsWith('no-aws'))).toEqual([]);
  });

  it('refuses before asking anything when the config exists', async () => {
    writeFileSync(configPath(), 'mine\n');
    const t = new Terminal(['init'], cleanEnv());
    expect(await t.exitCode()).toBe(3);
    expect(t.text).toContain('already exists; nothing was changed');
    expect(t.text).not.toContain('AWS region');
  });
});

describe('group discovery', () => {
  let server: Server;
  const requests: URLSearchParams[] = [];

  // Enough of the Auto Scaling Query API for DescribeAutoScalingGroups, two pages long.
  beforeEach(async () => {
    requests.length = 0;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        requests.push(form);
        const page = form.get('NextToken') === 'page-2' ? ['worker-asg'] : ['api-asg', 'web-asg'];
        const members = page.map((n) => `<member><AutoScalingGroupName>${n}</AutoScalingGroupName></member>`).join('');
        const next = form.get('NextToken') ? '' : '<NextToken>page-2</NextToken>';
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(`<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">`
          + `<DescribeAutoScalingGroupsResult><AutoScalingGroups>${members}</AutoScalingGroups>${next}</DescribeAutoScalingGroupsResult>`
          + `<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeAutoScalingGroupsResponse>`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
  });

  it('lists every page of the region\'s groups as a checklist when credentials work', async () => {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const t = new Terminal(['init'], cleanEnv({
      AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'fake-secret', AWS_REGION: 'us-east-2',
    }));
    await t.answer(/AWS region of the Auto Scaling groups \(us-east-2\)/, KEY.enter);
    await t.waitFor(/Auto Scaling groups whose instances join this master/);
    await t.waitFor(/worker-asg/);
    // Tick web-asg and worker-asg (the list is api-asg, web-asg, worker-asg, others).
    await t.answer(/others, not listed/, KEY.down + KEY.space + KEY.down + KEY.space + KEY.enter);
    await t.answer(/How do new instances of web-asg/, KEY.enter);
    await t.answer(/Salt version web-asg/, KEY.enter);
    await t.answer(/How do new instances of worker-asg/, KEY.enter);
    await t.answer(/Salt version worker-asg/, KEY.enter);
    await t.answer(/Public https URL/, `https://salt.example.com${KEY.enter}`);
    for (const q of [/binds/, /listens on/, /TLS certificate/, /Its private key/, /reach the master/, /Email alerts/, /SNS topic/]) {
      await t.answer(q, KEY.enter);
    }
    expect(await t.exitCode()).toBe(0);
    expect(requests.map((f) => [f.get('Action'), f.get('NextToken')])).toEqual([
      ['DescribeAutoScalingGroups', null], ['DescribeAutoScalingGroups', 'page-2'],
    ]);
    expect(Object.keys((await loadConfig(configPath())).config.groups)).toEqual(['web-asg', 'worker-asg']);
  });
});

describe('what init loads', () => {
  // A module hook that fails any import of inquirer or the AWS SDK: a command that loads them breaks loudly.
  const poison = () => {
    const hooks = join(dir, 'poison-hooks.mjs');
    writeFileSync(hooks, `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (/[\\\\/]node_modules[\\\\/](inquirer|@inquirer|@aws-sdk)[\\\\/]/.test(result.url)) throw new Error('loaded ' + specifier);
  return result;
}\n`);
    const register = join(dir, 'poison.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + hooks)});\n`);
    return ['--import', register];
  };

  it('--help, other commands and init --yes load neither inquirer nor the AWS SDK', async () => {
    const nodeArgs = poison();
    const control = await new Promise<number | null>((done) => {
      const c = spawn(process.execPath, [...nodeArgs, '--input-type=module', '-e', "await import('inquirer')"], { cwd: resolve('.') });
      c.on('close', done);
    });
    expect(control).not.toBe(0); // the hook does catch an import of inquirer

    expect((await run(['--help'], { nodeArgs })).code).toBe(0);
    const init = await run(['init', '--yes', '--region', 'us-east-1', '--group', 'a', '--public-url', 'https://s.example.com'], { nodeArgs });
    expect(init.stderr).not.toContain('loaded ');
    expect(init.code).toBe(0);
    const render = await run(['render', '--config', 'salt-autoscale.yaml', '--out', 'out'], { nodeArgs });
    expect(render.stderr).not.toContain('loaded ');
  });
});
