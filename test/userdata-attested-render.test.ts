// render for a group switched from preauth to attested, in-process through the I/O layer: the drop-in maps the
// attest tag to the same reactor, names the group's bootstrap and the admission window, installs the extra
// certificates beside the reactor; the group's user data is the attested one, posting to the configured
// endpoint and pinning the master's own fingerprint read from its pki; no autosign stub setting. Config errors
// name the key and the file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfigText } from '../src/config/load.js';
import { pemFinger } from '../src/render/attested.js';
import { ATTEST_EVENT_TAG } from '../src/render/salt-data.js';
import { EXAMPLE, runInProcess } from './helpers/run-cli.js';
import { tempDir } from './helpers/tmp.js';

const example = readFileSync(EXAMPLE, 'utf8');
/** The example with worker-asg (preauth) switched to attested. */
const attested = (extra = '') =>
  example.replace('  worker-asg:\n    bootstrap: preauth\n', '  worker-asg:\n    bootstrap: attested\n') + extra;

function openssl(cwd: string, ...args: string[]): string {
  const res = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(res.stderr);
  return res.stdout;
}

describe('render with an attested group', () => {
  it('installs the drop-in, the certificates and the attested user data, pinning the master it reads', async () => {
    const dir = tempDir();
    const etc = join(dir, 'etc-salt');
    const pki = join(etc, 'pki', 'master');
    mkdirSync(pki, { recursive: true });
    openssl(pki, 'genrsa', '-out', 'master.pem', '2048');
    openssl(pki, 'rsa', '-in', 'master.pem', '-pubout', '-out', 'master.pub');
    openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=test',
    );
    const config = join(dir, 'salt-autoscale.yaml');
    writeFileSync(
      config,
      attested(
        `attested:\n  window_seconds: 600\n  extra_certificates:\n    us-east-1: ${dir}/ca.pem\n  tls_ca_file: ${dir}/ca.pem\n`,
      )
        .replace('config_dir: /etc/salt', `config_dir: ${etc}`)
        .replace('reactor_dir: /srv/reactor', `reactor_dir: ${dir}/reactor`)
        .replace('salt:\n', `salt:\n  pki_dir: ${pki}\n`),
    );
    const res = await runInProcess(['render', '-c', config, '-o', etc]);
    expect(res.code, res.stderr).toBe(0);

    const dropIn = parse(readFileSync(join(etc, 'master.d/ec2-autoscale.conf'), 'utf8'), { version: '1.1' });
    const sls = `${dir}/reactor/ec2-autoscale.sls`;
    // (then the lifecycle events, since the example's web-asg has a launch hook)
    expect(dropIn.reactor.slice(0, 2)).toEqual([
      { 'salt/netapi/hook/ec2/autoscale': [sls] },
      { [ATTEST_EVENT_TAG]: [sls] },
    ]);
    expect(dropIn['ec2.autoscale'].groups['worker-asg']).toEqual({ bootstrap: 'attested' });
    expect(dropIn['ec2.autoscale'].attest).toEqual({
      window: 600,
      extra_certs_dir: `${dir}/reactor/ec2-autoscale-iid-certs`,
    });
    expect(dropIn.autosign_timeout).toBeUndefined(); // no preauth group left: no stub will be written
    const cert = readFileSync(join(dir, 'reactor/ec2-autoscale-iid-certs/us-east-1.pem'), 'utf8');
    expect(cert.startsWith(readFileSync(join(dir, 'ca.pem'), 'utf8'))).toBe(true);

    const userData = readFileSync(join(etc, 'userdata/worker-asg.sh'), 'utf8');
    expect(userData).toContain('(bootstrap: attested)');
    expect(userData).toContain("ATTEST_URL='https://salt.example.com:8000/hook/ec2/autoscale/attest'");
    expect(userData).toContain("ATTEST_DEADLINE_SECONDS='600'");
    const finger = pemFinger(readFileSync(join(pki, 'master.pub'), 'utf8'));
    expect(userData).toContain(`MASTER_FINGER='${finger}'`);
    expect(userData).toContain('-----BEGIN CERTIFICATE-----'); // the TLS CA, for curl --cacert
    // Salt's own fingerprint of that key (salt.utils.crypt.pem_finger), computed here as Python would.
    const python = spawnSync(
      'python3',
      [
        '-c',
        'import hashlib,sys\nk=b"".join([x for x in open(sys.argv[1],"rb").readlines() if x.strip()][1:-1])\nh=hashlib.sha256(k).hexdigest()\nprint(":".join(h[i:i+2] for i in range(0,64,2)))',
        join(pki, 'master.pub'),
      ],
      { encoding: 'utf8' },
    );
    expect(python.stdout.trim()).toBe(finger);
  });

  it('a staging render pins the configured fingerprint only, and needs no extra certificates', async () => {
    const dir = tempDir();
    const config = join(dir, 'salt-autoscale.yaml');
    const finger = Array.from({ length: 32 }, () => 'ab').join(':');
    writeFileSync(config, attested(`attested:\n  master_finger: "${finger}"\n`));
    const res = await runInProcess(['render', '-c', config, '-o', join(dir, 'out')]);
    expect(res.code, res.stderr).toBe(0);
    const userData = readFileSync(join(dir, 'out/userdata/worker-asg.sh'), 'utf8');
    expect(userData).toContain(`MASTER_FINGER='${finger}'`);
    expect(userData).toContain("ATTEST_CA=''");
    const dropIn = parse(readFileSync(join(dir, 'out/master.d/ec2-autoscale.conf'), 'utf8'), { version: '1.1' });
    expect(dropIn['ec2.autoscale'].attest).toEqual({ window: 900, extra_certs_dir: null });
  });

  it('names the file and key of a bad certificate, and refuses http:// for attested groups', async () => {
    const dir = tempDir();
    const config = join(dir, 'salt-autoscale.yaml');
    writeFileSync(join(dir, 'not-a-cert.pem'), 'hello\n');
    writeFileSync(config, attested(`attested:\n  extra_certificates:\n    us-east-1: ${dir}/not-a-cert.pem\n`));
    const res = await runInProcess(['render', '-c', config, '-o', join(dir, 'out')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      `attested.extra_certificates.us-east-1: ${dir}/not-a-cert.pem holds 0 PEM CERTIFICATE blocks`,
    );
    const http = () =>
      parseConfigText(
        attested()
          .replace('public_url: https://', 'public_url: http://')
          .replace('  webhook_url: /hook\n', '  webhook_url: /hook\n  allow_http: true\n'),
        'salt-autoscale.yaml',
      );
    expect(http).toThrow(/salt_api\.public_url uses http:\/\/, but attested group worker-asg posts its key there/);
  });
});
