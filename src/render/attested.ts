// What render needs for attested groups besides the config: the extra instance identity certificates and the
// TLS CA it reads from files, and the master's key fingerprint (given, or read from the master's pki). Read
// here, once, so that the file builders (./files.ts) stay pure.
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { UserError } from '../errors.js';

export interface AttestedInputs {
  /** Extra RSA-2048 identity certificates, each installed as <dir>/<file> on the master. */
  certificates: { region: string; file: string; pem: string }[];
  /** PEM the instances' curl trusts salt-api's certificate with; '' = the instance's system trust store. */
  tlsCaPem: string;
  /** The master's key fingerprint for master_finger; '' = no pin. */
  masterFinger: string;
}

export const NO_ATTESTED_INPUTS: AttestedInputs = { certificates: [], tlsCaPem: '', masterFinger: '' };

/** Where render installs the extra certificates, beside the reactor (the master's path). */
export const EXTRA_CERTS_DIR = 'ec2-autoscale-iid-certs';

export function attestedGroups(config: Config): string[] {
  return Object.keys(config.groups).filter((name) => config.groups[name].bootstrap === 'attested');
}

/**
 * Salt's fingerprint of a PEM key (salt.utils.crypt.pem_finger with Salt's default hash_type sha256, which
 * `salt-key -F master` prints and the minion compares master_finger with): the sha256 of the non-blank lines
 * between the BEGIN and END lines, each with its newline, as colon-separated hex pairs.
 */
export function pemFinger(pem: string): string {
  const lines = pem.split(/(?<=\n)/).filter((line) => line.trim() !== '');
  const body = lines.slice(1, -1).join('');
  const hex = createHash('sha256').update(body, 'utf8').digest('hex');
  return hex.match(/../g)!.join(':');
}

async function readText(path: string, key: string, configFile: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'cannot be read by this user'
          : `cannot be read (${code})`;
    throw new UserError(`${configFile}: ${key}: ${path} ${why}; name a PEM file render can read`);
  }
}

function onePemCertificate(pem: string, path: string, key: string, configFile: string, rsa: boolean): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  let problem = blocks === 1 && pem.split('-----BEGIN').length === 2 ? '' : `holds ${blocks} PEM CERTIFICATE blocks`;
  if (!problem) {
    try {
      const cert = new X509Certificate(pem);
      if (rsa && cert.publicKey.asymmetricKeyType !== 'rsa') problem = 'holds a certificate whose key is not RSA';
    } catch {
      problem = 'is not a readable X.509 certificate';
    }
  }
  if (problem)
    throw new UserError(
      `${configFile}: ${key}: ${path} ${problem}; expected exactly one PEM certificate${rsa ? " (AWS's RSA-2048 certificate for the region)" : ''}`,
    );
}

/**
 * Reads what attested groups need. `masterPki`: the master's pki dir when rendering into the Salt config dir
 * (its master.pub gives the fingerprint unless attested.master_finger is set), else undefined.
 */
export async function readAttestedInputs(
  config: Config,
  configFile: string,
  masterPki: string | undefined,
): Promise<AttestedInputs> {
  if (attestedGroups(config).length === 0) return NO_ATTESTED_INPUTS;
  const a = config.attested;
  const certificates: AttestedInputs['certificates'] = [];
  for (const [region, given] of Object.entries(a.extra_certificates)) {
    const paths = Array.isArray(given) ? given : [given];
    for (const [i, path] of paths.entries()) {
      const key = `attested.extra_certificates.${region}`;
      const pem = await readText(path, key, configFile);
      onePemCertificate(pem, path, key, configFile, true);
      certificates.push({ region, file: paths.length === 1 ? `${region}.pem` : `${region}.${i + 1}.pem`, pem });
    }
  }
  let tlsCaPem = '';
  if (a.tls_ca_file) {
    tlsCaPem = await readText(a.tls_ca_file, 'attested.tls_ca_file', configFile);
    if (!/-----BEGIN CERTIFICATE-----/.test(tlsCaPem))
      throw new UserError(
        `${configFile}: attested.tls_ca_file: ${a.tls_ca_file} holds no PEM certificate; name the CA certificate salt-api's ssl_crt chains to`,
      );
  }
  let masterFinger = a.master_finger ?? '';
  if (!masterFinger && masterPki) {
    // On the master itself: Salt's own key. Absent (a master never started) means no pin, not an error.
    const pub = await readFile(join(masterPki, 'master.pub'), 'utf8').catch(() => '');
    if (pub.includes('-----BEGIN')) masterFinger = pemFinger(pub);
  }
  return { certificates, tlsCaPem, masterFinger };
}
