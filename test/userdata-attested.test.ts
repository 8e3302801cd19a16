// Attested user data (templates/userdata-attested.sh.hbs) end to end: valid shell; run as a shell script (its
// paths pointed at a temp dir through SALT_CONFIG_DIR and AWS_EC2_METADATA_SERVICE_ENDPOINT) against a fake
// IMDSv2 serving a document signed by a test CA (standing in for AWS's us-east-1 certificate, configured as an
// extra certificate) and an HTTPS endpoint that answers 200 to every POST, as salt-api does, and fires it into
// the Salt-like reactor harness as the attest tag's event ({"body", "post", "headers"}, rest_cherrypy's
// Webhook). A fake salt-minion "authenticates" once the master's pki/minions/<id> holds its key, as Salt's
// auth does, and then writes minion_master.pub. The attacks are each refused with their reason.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from '../src/render/templates.js';
import { type FakeImds, startFakeImds } from './fakes/imds.js';
import { listFiles, type Master, type ReactorFixture, setupReactorFixture } from './helpers/reactor-fixture.js';
import { tempDir } from './helpers/tmp.js';
import { requireTool } from './helpers/tools.js';

const INSTANCE = 'i-0123456789abcdef0';
const ACCOUNT = '123456789012';
const ATTEST_TAG = 'salt/netapi/hook/ec2/autoscale/attest';
const FINGER = '4f:2a:9c:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc';
const AWS_DN = '/C=US/ST=Washington State/L=Seattle/O=Amazon Web Services LLC';

function openssl(cwd: string, ...args: string[]): Buffer {
  const res = spawnSync('openssl', args, { cwd });
  if (res.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

const iso = (epochMs: number) => new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Test CAs in AWS's name (us-east-1, eu-west-1, a forger's), the receiver's TLS identity, attackers' keys. */
function makePki(dir: string): string {
  for (const [name, serial] of [
    ['aws', '0x0A11CE'],
    ['eu', '0x0B0B'],
    ['forger', '0x0BAD'],
  ]) {
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
      AWS_DN,
      '-set_serial',
      serial,
    );
  }
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'tls.key',
    '-out',
    'tls.pem',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  );
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'other-tls.key',
    '-out',
    'other-tls.pem',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  );
  for (const name of ['attacker', 'second']) {
    openssl(dir, 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}.key.pem`);
    openssl(dir, 'pkey', '-in', `${name}.key.pem`, '-pubout', '-out', `${name}.pub`);
  }
  const certs = join(dir, 'extra-certs');
  mkdirSync(certs, { mode: 0o755 });
  writeFileSync(join(certs, 'us-east-1.pem'), readFileSync(join(dir, 'aws.pem')));
  writeFileSync(join(certs, 'eu-west-1.pem'), readFileSync(join(dir, 'eu.pem')));
  return dir;
}

function identityDocument(fields: Record<string, string> = {}): Buffer {
  const doc = {
    accountId: ACCOUNT,
    availabilityZone: 'us-east-1a',
    imageId: 'ami-0123456789abcdef0',
    instanceId: INSTANCE,
    instanceType: 't3.micro',
    pendingTime: iso(Date.now() - 30_000),
    privateIp: '10.0.0.12',
    region: 'us-east-1',
    version: '2017-09-30',
    ...fields,
  };
  return Buffer.from(JSON.stringify(doc, null, 2).replace(/": /g, '" : ')); // IMDS's layout
}

/** base64 PKCS#7 SignedData of the document, content attached, as IMDS's /rsa2048 serves it (wrapped). */
function sign(dir: string, document: Buffer, signer = 'aws'): string {
  writeFileSync(join(dir, 'document'), document);
  const der = openssl(
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
    `${signer}.pem`,
    '-inkey',
    `${signer}.key`,
  );
  return der.toString('base64').replace(/(.{64})/g, '$1\n');
}

interface Attestation {
  instance_id: string;
  document_b64: string;
  signature: string;
  public_key_b64: string;
}

function attestation(dir: string, document: Buffer, key: string, signer = 'aws'): Attestation {
  const id = JSON.parse(document.toString()).instanceId as string;
  return {
    instance_id: id,
    document_b64: document.toString('base64'),
    signature: sign(dir, document, signer).replace(/\n/g, ''),
    public_key_b64: Buffer.from(key).toString('base64'),
  };
}

/** The event rest_cherrypy's Webhook fires for an application/json POST. */
const event = (body: string) => ({
  data: { body, post: JSON.parse(body), headers: { 'Content-Type': 'application/json' } },
  tag: ATTEST_TAG,
});

let fx: ReactorFixture;
let shared: string; // the keys and certificates, made once (RSA key generation is slow on a busy machine)
beforeAll(async () => {
  requireTool('python3');
  fx = await setupReactorFixture();
  shared = makePki(mkdtempSync(join(tmpdir(), 'attested-pki-')));
});

/** A fresh test dir holding a copy of the shared keys and certificates. */
function pkiDir(): string {
  const dir = tempDir();
  cpSync(shared, dir, { recursive: true });
  return dir;
}
afterAll(async () => {
  await fx?.close();
  if (shared) rmSync(shared, { recursive: true, force: true });
});

/** A master whose web-asg is attested, trusting the test CAs as extra certificates. */
async function attestedMaster(dir: string): Promise<Master> {
  const m = await fx.master((c) => {
    c.groups['web-asg'] = { bootstrap: 'attested', salt_version: '3007.14', minion: {}, settings: {} };
    c.attested.extra_certificates = { 'us-east-1': join(dir, 'aws.pem') };
  });
  const settings = m.opts['ec2.autoscale'] as { attest: { extra_certs_dir: string | null } };
  expect(settings.attest.extra_certs_dir).toBe('/srv/reactor/ec2-autoscale-iid-certs'); // as render names it
  settings.attest.extra_certs_dir = join(dir, 'extra-certs'); // … and here where this test put them
  return m;
}

async function announce(m: Master, instanceId = INSTANCE) {
  const { results } = await fx.deliver(m, [{ body: fx.set.notification({ group: 'web-asg', instanceId }) }]);
  expect(results[0].logs.map((l) => l.message).join('\n')).toContain('(attested): announced');
}

/** salt-api's side: 200 to every POST (the verdict is the reactor's), each body then fired into the harness. */
interface SaltApi {
  url: string;
  bodies: string[];
  logs: string[];
  settled(): Promise<void>;
  close(): Promise<void>;
}

async function startSaltApi(dir: string, m: Master | null): Promise<SaltApi> {
  const bodies: string[] = [];
  const logs: string[] = [];
  let chain = Promise.resolve();
  const server: Server = createServer(
    { key: readFileSync(join(dir, 'tls.key')), cert: readFileSync(join(dir, 'tls.pem')) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        bodies.push(body);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"success": true}');
        if (m)
          chain = chain.then(async () => {
            const { results } = await fx.deliver(m, [event(body)]);
            logs.push(
              ...results[0].logs.map((l) => `${l.level} ${l.message}`),
              ...(results[0].error ? [results[0].error] : []),
            );
          });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/hook/ec2/autoscale/attest`,
    bodies,
    logs,
    settled: () => chain,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function render(dir: string, url: string, extra: Record<string, unknown> = {}): string {
  const script = renderTemplate('userdata-attested.sh.hbs', {
    version: '0.1.0',
    configName: "salt-autoscale.yaml # it's $(id)",
    group: 'web asg; $(reboot)',
    master: 'salt-master.internal',
    saltVersion: '3007.14',
    bootstrapUrl: 'https://github.com/saltstack/salt-bootstrap/releases/latest/download/bootstrap-salt.sh',
    minionConf: 'master: salt-master.internal\n',
    attestUrl: url,
    attestCaPem: readFileSync(join(dir, 'tls.pem'), 'utf8'),
    masterFinger: FINGER,
    attestDeadlineSeconds: 20,
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

/**
 * An instance: salt-minion already installed (a stub), real curl and openssl, and a systemctl whose
 * `restart salt-minion` starts a fake minion in the background. The fake authenticates as Salt's auth would:
 * once `masterPki`/minions/<id> holds exactly its minion.pub (or always, without a master), it writes
 * minion_master.pub; it gives up after 2 minutes.
 */
function instance(dir: string, imds: FakeImds, masterPki?: string) {
  const bin = join(dir, 'bin');
  const etc = join(dir, 'etc-salt');
  const pki = join(etc, 'pki/minion');
  const calls = join(dir, 'calls.log');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'salt-minion'), `#!/bin/sh\necho "salt-minion $*" >> "${calls}"\n`);
  const accepted = masterPki ? `cmp -s "${masterPki}/minions/$(cat "${etc}/minion_id")" "${pki}/minion.pub"` : 'true';
  writeFileSync(
    join(bin, 'systemctl'),
    `#!/bin/sh
echo "systemctl $*" >> "${calls}"
[ "$1" = restart ] || exit 0
(
  i=0
  while [ $i -lt 480 ]; do
    if ${accepted}; then echo "master public key" > "${pki}/minion_master.pub"; exit 0; fi
    sleep 0.25; i=$((i + 1))
  done
) </dev/null >/dev/null 2>&1 &
`,
  );
  chmodSync(join(bin, 'salt-minion'), 0o755);
  chmodSync(join(bin, 'systemctl'), 0o755);
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: dir,
    SALT_CONFIG_DIR: etc,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
    NO_PROXY: '*',
    no_proxy: '*',
  };
  return { env, etc, pki, calls };
}

const refusals = (logs: string[]) =>
  logs.map((l) => /refused attestation: reason=([a-z_]+)/.exec(l)?.[1]).filter((r): r is string => Boolean(r));

// Each post runs the harness (a python3 process), as salt-api fires an event per POST: minutes on a busy machine.
describe('attested user data', { timeout: 240_000 }, () => {
  it('is valid POSIX shell that shellcheck finds nothing in', () => {
    const dir = pkiDir();
    const file = render(dir, 'https://salt.example.com:8000/hook/ec2/autoscale/attest');
    const syntax = spawnSync('sh', ['-n', file], { encoding: 'utf8' });
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
    requireTool('shellcheck');
    const lint = spawnSync('shellcheck', ['-s', 'sh', '-S', 'warning', file], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
  });

  it('against the harness master: ends with exactly its own key accepted, no stub; every attack is refused', async () => {
    const dir = pkiDir();
    const m = await attestedMaster(dir);
    await announce(m);
    const document = identityDocument();
    const imds = await startFakeImds({ instanceId: INSTANCE, document, rsa2048: sign(dir, document) });
    const api = await startSaltApi(dir, m);
    try {
      const host = instance(dir, imds, m.pkiDir);
      // A generous deadline: each post is a python3 process here, slow on a busy machine.
      const res = await run(render(dir, api.url, { attestDeadlineSeconds: 90 }), host.env);
      await api.settled();
      expect(res.status, `${res.stderr}\n${api.logs.join('\n')}`).toBe(0);
      expect(res.stderr).toContain(
        `salt-minion runs as ${INSTANCE}, master salt-master.internal, its key accepted by attestation`,
      );

      // The key pair where salt-minion keeps it; exactly its public key accepted on the master, no stub.
      const pub = readFileSync(join(host.pki, 'minion.pub'), 'utf8');
      expect(readFileSync(join(host.pki, 'minion.pem'), 'utf8')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
      expect(readFileSync(join(m.pkiDir, 'minions', INSTANCE), 'utf8')).toBe(pub);
      expect(await listFiles(m.pkiDir)).toEqual([`minions/${INSTANCE}`]);
      expect(refusals(api.logs)).toEqual([]);
      expect(api.logs.filter((l) => l.includes('admitted its key'))).toHaveLength(1);
      // It posted at least twice (before and after installing salt-minion), always the same body.
      expect(api.bodies.length).toBeGreaterThanOrEqual(2);
      expect(new Set(api.bodies).size).toBe(1);
      const posted = JSON.parse(api.bodies[0]) as Attestation;
      expect(Buffer.from(posted.document_b64, 'base64').equals(document)).toBe(true);
      expect(Buffer.from(posted.public_key_b64, 'base64').toString()).toBe(pub);
      // IMDSv2 only: a token first, every read carried it.
      expect(imds.requests[0]).toMatchObject({ method: 'PUT', path: '/latest/api/token', status: 200 });
      expect(imds.requests.slice(1).every((r) => r.method === 'GET' && r.token && r.status === 200)).toBe(true);
      // The minion: named after the instance, master pinned, started after the first post.
      expect(readFileSync(join(host.etc, 'minion_id'), 'utf8')).toBe(`${INSTANCE}\n`);
      expect(readFileSync(join(host.etc, 'minion.d/salt-autoscale-master-finger.conf'), 'utf8')).toBe(
        `master_finger: '${FINGER}'\n`,
      );
      expect(readFileSync(host.calls, 'utf8')).toBe('systemctl enable salt-minion\nsystemctl restart salt-minion\n');

      // The attacks, in one harness run against the same master: each refused with its reason, nothing written.
      const attacker = readFileSync(join(dir, 'attacker.pub'), 'utf8');
      const second = readFileSync(join(dir, 'second.pub'), 'utf8');
      const tampered = {
        ...posted,
        document_b64: Buffer.from(document.toString().replace('t3.micro', 't3.large')).toString('base64'),
      };
      const attacks: [string, unknown, string][] = [
        [
          'a replayed document (the key swapped after signing)',
          { ...posted, public_key_b64: Buffer.from(attacker).toString('base64') },
          'document_replayed',
        ],
        [
          'a document for an instance never launched',
          attestation(dir, identityDocument({ instanceId: 'i-0aaaaaaaaaaaaaaa1' }), attacker),
          'instance_not_announced',
        ],
        [
          'another account',
          attestation(dir, identityDocument({ accountId: '999999999999' }), attacker),
          'account_not_allowed',
        ],
        [
          'another region',
          attestation(dir, identityDocument({ region: 'eu-west-1', availabilityZone: 'eu-west-1a' }), attacker, 'eu'),
          'region_not_allowed',
        ],
        [
          'a stale pendingTime',
          attestation(dir, identityDocument({ pendingTime: iso(Date.now() - 901_000) }), attacker),
          'stale_document',
        ],
        ['a tampered document', tampered, 'document_mismatch'],
        [
          'a signature by the wrong certificate',
          attestation(dir, identityDocument({ pendingTime: iso(Date.now() - 20_000) }), attacker, 'forger'),
          'wrong_certificate',
        ],
        [
          'a second key for the same id',
          attestation(dir, identityDocument({ pendingTime: iso(Date.now() - 20_000) }), second),
          'key_conflict',
        ],
        [
          'a public key that is not one',
          {
            ...posted,
            public_key_b64: Buffer.from('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n').toString(
              'base64',
            ),
          },
          'bad_public_key',
        ],
      ];
      const { results } = await fx.deliver(
        m,
        attacks.map(([, body]) => event(JSON.stringify(body))),
      );
      const got = results.map((r, i) => [
        attacks[i][0],
        refusals(r.logs.map((l) => l.message)),
        r.logs.filter((l) => l.message.includes('refused attestation')).map((l) => l.level),
        r.reaction,
      ]);
      expect(got).toEqual(attacks.map(([name, , reason]) => [name, [reason], ['WARNING'], {}]));
      expect(readFileSync(join(m.pkiDir, 'minions', INSTANCE), 'utf8')).toBe(pub);
      expect(await listFiles(m.pkiDir)).toEqual([`minions/${INSTANCE}`]);
    } finally {
      await Promise.all([imds.close(), api.close()]);
    }
  });

  it('what it does not prove: whoever posts the document first with another key wins; the real post alarms', async () => {
    const dir = pkiDir();
    const m = await attestedMaster(dir);
    await announce(m);
    const document = identityDocument();
    const rsa2048 = sign(dir, document);
    // Someone who read the instance's IMDS (a process on it, an SSRF) posts first.
    const stolen = attestation(dir, document, readFileSync(join(dir, 'attacker.pub'), 'utf8'));
    const imds = await startFakeImds({ instanceId: INSTANCE, document, rsa2048 });
    const api = await startSaltApi(dir, m);
    try {
      await fx.deliver(m, [event(JSON.stringify(stolen))]);
      const host = instance(dir, imds, m.pkiDir);
      const res = await run(render(dir, api.url, { attestDeadlineSeconds: 4 }), host.env);
      await api.settled();
      expect(res.status).toBe(1);
      expect(res.stderr).toContain('its key was not accepted within 4s');
      expect(readFileSync(join(m.pkiDir, 'minions', INSTANCE), 'utf8')).toBe(
        readFileSync(join(dir, 'attacker.pub'), 'utf8'),
      );
      expect(new Set(refusals(api.logs))).toEqual(new Set(['document_replayed']));
    } finally {
      await Promise.all([imds.close(), api.close()]);
    }
  });

  it('an instance never announced gives up at the deadline: salt-minion runs, its key is not accepted, exit 1', async () => {
    const dir = pkiDir();
    const m = await attestedMaster(dir);
    const document = identityDocument();
    const imds = await startFakeImds({ instanceId: INSTANCE, document, rsa2048: sign(dir, document) });
    const api = await startSaltApi(dir, m);
    try {
      const host = instance(dir, imds, m.pkiDir);
      const started = Date.now();
      const res = await run(render(dir, api.url, { attestDeadlineSeconds: 4 }), host.env);
      const seconds = (Date.now() - started) / 1000;
      await api.settled();
      expect(res.status).toBe(1);
      expect(seconds).toBeLessThan(15); // the deadline, plus key generation on a busy machine
      expect(res.stderr).toContain('its key was not accepted within 4s');
      expect(readFileSync(host.calls, 'utf8')).toContain('systemctl restart salt-minion');
      expect(new Set(refusals(api.logs))).toEqual(new Set(['instance_not_announced']));
      expect(await listFiles(m.pkiDir)).toEqual([]);
    } finally {
      await Promise.all([imds.close(), api.close()]);
    }
  });

  it('keeps the key it made for this instance on a re-run, and replaces a key baked into the image', async () => {
    const dir = pkiDir();
    const document = identityDocument();
    const imds = await startFakeImds({ instanceId: INSTANCE, document, rsa2048: sign(dir, document) });
    const api = await startSaltApi(dir, null); // no master needed: the minion authenticates at once
    try {
      const host = instance(dir, imds);
      const file = render(dir, api.url, { masterFinger: '' });
      expect((await run(file, host.env)).status).toBe(0);
      const first = readFileSync(join(host.pki, 'minion.pub'), 'utf8');
      expect((await run(file, host.env)).status).toBe(0);
      expect(readFileSync(join(host.pki, 'minion.pub'), 'utf8')).toBe(first);
      expect(existsSync(join(host.etc, 'minion.d/salt-autoscale-master-finger.conf'))).toBe(false);
      // An image baked with a key (every instance would share it): the marker names another instance.
      writeFileSync(join(host.pki, '.salt-autoscale-instance'), 'i-0ffffffffffffffff\n');
      expect((await run(file, host.env)).status).toBe(0);
      expect(readFileSync(join(host.pki, 'minion.pub'), 'utf8')).not.toBe(first);
      await api.settled();
    } finally {
      await Promise.all([imds.close(), api.close()]);
    }
  });

  it('posts nothing to a receiver whose TLS certificate does not chain to the configured CA', async () => {
    const dir = pkiDir();
    const m = await attestedMaster(dir);
    const document = identityDocument();
    const imds = await startFakeImds({ instanceId: INSTANCE, document, rsa2048: sign(dir, document) });
    const api = await startSaltApi(dir, m);
    try {
      const host = instance(dir, imds, m.pkiDir);
      const file = render(dir, api.url, {
        attestCaPem: readFileSync(join(dir, 'other-tls.pem'), 'utf8'),
        attestDeadlineSeconds: 3,
      });
      const res = await run(file, host.env);
      expect(res.status).toBe(1);
      expect(api.bodies).toHaveLength(0);
      expect(res.stderr).toContain('HTTP 000');
    } finally {
      await Promise.all([imds.close(), api.close()]);
    }
  });
});
