// Attested user data (templates/userdata-attested.sh.hbs, a draft not yet wired into render): valid shell, and
// run against a fake IMDSv2 and a local HTTPS receiver it generates the minion's key pair where salt-minion keeps
// it (owner-only private key), posts exactly that key with the identity document and its rsa2048 signature,
// retries until accepted, pins master_finger, then starts salt-minion. The posted body is then judged by the
// gate's identity module, as the master will.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { renderTemplate } from '../src/render/templates.js';
import { type FakeImds, startFakeImds } from './fakes/imds.js';
import { tempDir } from './helpers/tmp.js';
import { requireTool } from './helpers/tools.js';

const INSTANCE = 'i-0123456789abcdef0';
const ACCOUNT = '123456789012';
const FINGER = '4f:2a:9c:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc';
const AWS_DN = '/C=US/ST=Washington State/L=Seattle/O=Amazon Web Services LLC';

function openssl(cwd: string, ...args: string[]): Buffer {
  const res = spawnSync('openssl', args, { cwd });
  if (res.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function selfSigned(dir: string, name: string, subject: string, ...extra: string[]) {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    subject,
    ...extra,
  );
}

/** A test CA standing in for AWS's us-east-1 certificate, a document it signed (as IMDS serves both), and a
 * self-signed TLS certificate for the receiver. */
function makePki(dir: string) {
  selfSigned(dir, 'aws', AWS_DN);
  selfSigned(dir, 'tls', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
  return dir;
}

function signedDocument(dir: string) {
  const document = Buffer.from(
    JSON.stringify(
      {
        accountId: ACCOUNT,
        availabilityZone: 'us-east-1a',
        imageId: 'ami-0123456789abcdef0',
        instanceId: INSTANCE,
        instanceType: 't3.micro',
        pendingTime: iso(Date.now() - 30_000),
        privateIp: '10.0.0.12',
        region: 'us-east-1',
        version: '2017-09-30',
      },
      null,
      2,
    ).replace(/": /g, '" : '),
  );
  writeFileSync(join(dir, 'document'), document);
  const sig = openssl(
    dir,
    'smime',
    '-sign',
    '-binary',
    '-nodetach',
    '-nocerts',
    '-md',
    'sha256',
    '-outform',
    'DER',
    '-in',
    'document',
    '-signer',
    'aws.pem',
    '-inkey',
    'aws.key',
  ).toString('base64');
  return { document, rsa2048: sig.replace(/(.{76})/g, '$1\n') }; // IMDS wraps its base64 lines
}

interface Receiver {
  url: string;
  bodies: string[];
  close(): Promise<void>;
}

/** A tiny HTTPS endpoint standing in for the master's attestation listener: answers the given statuses in turn
 * (the last one repeats) and records each body. */
async function startReceiver(dir: string, statuses: number[]): Promise<Receiver> {
  const bodies: string[] = [];
  const server: Server = createServer(
    { key: readFileSync(join(dir, 'tls.key')), cert: readFileSync(join(dir, 'tls.pem')) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        const status = statuses[Math.min(bodies.length - 1, statuses.length - 1)];
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(status < 300 ? { verdict: 'accepted' } : { reason: 'instance_not_announced' }));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/hook/ec2/attest`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function render(dir: string, receiverUrl: string, extra: Record<string, unknown> = {}): string {
  const script = renderTemplate('userdata-attested.sh.hbs', {
    version: '0.1.0',
    configName: "salt-autoscale.yaml # it's $(id)",
    group: 'web asg; $(reboot)',
    master: 'salt-master.internal',
    saltVersion: '3007.14',
    bootstrapUrl: 'https://github.com/saltstack/salt-bootstrap/releases/latest/download/bootstrap-salt.sh',
    minionConf: 'master: salt-master.internal\n',
    attestUrl: receiverUrl,
    attestCaPem: readFileSync(join(dir, 'tls.pem'), 'utf8'),
    masterFinger: FINGER,
    attestDeadlineSeconds: 30,
    attestFirstDelaySeconds: 1,
    ...extra,
  });
  const file = join(dir, 'user-data.sh');
  writeFileSync(file, script);
  return file;
}

function run(file: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', [file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

/** An instance: salt-minion already installed (a stub), systemctl recording its calls, real curl and openssl. */
function instance(dir: string, imds: FakeImds) {
  const bin = join(dir, 'bin');
  const etc = join(dir, 'etc-salt');
  const calls = join(dir, 'calls.log');
  mkdirSync(bin);
  for (const name of ['salt-minion', 'systemctl']) {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> "${calls}"\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: dir,
    SALT_CONFIG_DIR: etc,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
    NO_PROXY: '*',
    no_proxy: '*',
  };
  return { env, etc, pki: join(etc, 'pki/minion'), calls };
}

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

async function setUp(statuses: number[]) {
  const dir = makePki(tempDir());
  const { document, rsa2048 } = signedDocument(dir);
  const imds = await startFakeImds({ instanceId: INSTANCE, document, rsa2048 });
  const receiver = await startReceiver(dir, statuses);
  closers.push(imds.close, receiver.close);
  return { dir, document, rsa2048, imds, receiver, host: instance(dir, imds) };
}

describe('attested user data (draft template)', () => {
  it('is valid POSIX shell that shellcheck finds nothing in', async () => {
    const dir = makePki(tempDir());
    const file = render(dir, 'https://salt.example.com:8000/hook/ec2/attest');
    const syntax = spawnSync('sh', ['-n', file], { encoding: 'utf8' });
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
    requireTool('shellcheck');
    const lint = spawnSync('shellcheck', ['-s', 'sh', '-S', 'warning', file], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
  });

  it('posts its own new key with the signed document, retries until accepted, then starts salt-minion', async () => {
    const { dir, document, rsa2048, imds, receiver, host } = await setUp([503, 200]);
    const res = await run(render(dir, receiver.url), host.env);
    expect(res.status, res.stderr).toBe(0);

    // The key pair, where and as salt-minion keeps it.
    expect(statSync(host.pki).mode & 0o777).toBe(0o700);
    expect(statSync(join(host.pki, 'minion.pem')).mode & 0o777).toBe(0o400);
    expect(readFileSync(join(host.pki, 'minion.pem'), 'utf8')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const pub = readFileSync(join(host.pki, 'minion.pub'), 'utf8');
    expect(pub).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);

    // What was posted: twice (the first answer was 503), the same body, exactly these values.
    expect(receiver.bodies).toHaveLength(2);
    expect(receiver.bodies[1]).toBe(receiver.bodies[0]);
    const posted = JSON.parse(receiver.bodies[0]);
    expect(Object.keys(posted).sort()).toEqual(['document_b64', 'instance_id', 'public_key_b64', 'signature']);
    expect(posted.instance_id).toBe(INSTANCE);
    expect(Buffer.from(posted.document_b64, 'base64').equals(document)).toBe(true);
    expect(posted.signature).toBe(rsa2048.replace(/\n/g, ''));
    expect(Buffer.from(posted.public_key_b64, 'base64').toString('utf8')).toBe(pub);
    expect(res.stderr).toContain('HTTP 503');
    expect(res.stderr).toContain('instance_not_announced');

    // IMDSv2 only: a token first, every read carried it and none was refused.
    expect(imds.requests[0]).toMatchObject({ method: 'PUT', path: '/latest/api/token', status: 200 });
    expect(imds.requests.slice(1).every((r) => r.method === 'GET' && r.token && r.status === 200)).toBe(true);
    expect(imds.requests.map((r) => r.path)).toContain('/latest/dynamic/instance-identity/rsa2048');

    // The minion: named after the instance, master pinned, started once attested.
    expect(readFileSync(join(host.etc, 'minion_id'), 'utf8')).toBe(`${INSTANCE}\n`);
    expect(readFileSync(join(host.etc, 'minion.d/salt-autoscale-master-finger.conf'), 'utf8')).toBe(
      `master_finger: '${FINGER}'\n`,
    );
    expect(readFileSync(host.calls, 'utf8')).toBe('systemctl enable salt-minion\nsystemctl restart salt-minion\n');

    // The master's side: the gate's verifier admits exactly the posted key for this instance.
    mkdirSync(join(dir, 'extra-certs'), 0o755);
    writeFileSync(join(dir, 'extra-certs', 'us-east-1.pem'), readFileSync(join(dir, 'aws.pem')));
    const judged = spawnSync(
      'python3',
      [
        '-c',
        `import json, sys, time
from salt_autoscale_gate import identity as i
class Ledger(object):
    def announced(self, x): return "web-asg" if x == "${INSTANCE}" else None
    def recorded_key(self, x): return None
    def document_used(self, d): return False
policy = i.Policy(["${ACCOUNT}"], ["us-east-1"], 600, time.time())
v = i.judge_request(sys.stdin.buffer.read(), i.load_certificates(sys.argv[1]), policy, Ledger())
print(json.dumps(v.to_dict()))`,
        join(dir, 'extra-certs'),
      ],
      {
        input: receiver.bodies[0],
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: fileURLToPath(new URL('../reactor', import.meta.url)) },
      },
    );
    expect(judged.status, judged.stderr).toBe(0);
    const verdict = JSON.parse(judged.stdout);
    expect(verdict.verdict, judged.stdout).toBe('accepted');
    expect(verdict.facts.outcome).toBe('admit');
    expect(verdict.facts.public_key).toBe(pub);
  });

  it('a re-run keeps the key it was admitted with', async () => {
    const { dir, receiver, host } = await setUp([200]);
    const file = render(dir, receiver.url, { masterFinger: '' });
    expect((await run(file, host.env)).status).toBe(0);
    const first = readFileSync(join(host.pki, 'minion.pub'), 'utf8');
    expect((await run(file, host.env)).status).toBe(0);
    expect(readFileSync(join(host.pki, 'minion.pub'), 'utf8')).toBe(first);
    expect(receiver.bodies[1]).toBe(receiver.bodies[0]);
    expect(() => statSync(join(host.etc, 'minion.d/salt-autoscale-master-finger.conf'))).toThrow();
  });

  it('gives up at the deadline, still starts salt-minion (its key then waits in pending) and fails', async () => {
    const { dir, receiver, host } = await setUp([403]);
    const started = Date.now();
    const res = await run(render(dir, receiver.url, { attestDeadlineSeconds: 3 }), host.env);
    expect(res.status).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(receiver.bodies.length).toBeGreaterThanOrEqual(2);
    expect(res.stderr).toContain('was not accepted within 3s');
    expect(readFileSync(host.calls, 'utf8')).toContain('systemctl restart salt-minion');
  });

  it('refuses a receiver whose TLS certificate does not chain to the configured CA', async () => {
    const { dir, receiver, host } = await setUp([200]);
    selfSigned(dir, 'other', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
    const file = render(dir, receiver.url, {
      attestCaPem: readFileSync(join(dir, 'other.pem'), 'utf8'),
      attestDeadlineSeconds: 2,
    });
    const res = await run(file, host.env);
    expect(res.status).toBe(1);
    expect(receiver.bodies).toHaveLength(0);
    expect(res.stderr).toContain('HTTP 000');
  });
});
