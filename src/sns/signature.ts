// Steps 3 and 4: the signing certificate and the signature. Pure (node:crypto only, no I/O).
import { verify, X509Certificate } from 'node:crypto';
import { Rejection } from './codes.js';
import type { Envelope } from './envelope.js';

const NOTIFICATION_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
const CONFIRMATION_KEYS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];

/**
 * The string SNS signs: each key (in this fixed order) as `Name\nvalue\n`. Subject only when present: signing
 * an empty Subject for a message without one was the seed reactor's bug.
 */
export function canonicalString(envelope: Envelope): string {
  const keys = envelope.Type === 'Notification' ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  let out = '';
  for (const key of keys) {
    const value = envelope.fields[key];
    if (value === undefined) continue; // only Subject can be absent: the others are required by parseEnvelope
    out += `${key}\n${value}\n`;
  }
  return out;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** Parses the first certificate of a PEM text; throws cert_invalid. */
export function parseCertificate(pem: string): X509Certificate {
  const block = PEM_CERT.exec(pem);
  if (!block) throw new Rejection('cert_invalid', 'the signing certificate URL did not return a PEM certificate');
  try {
    return new X509Certificate(block[0]);
  } catch (err) {
    throw new Rejection(
      'cert_invalid',
      `the signing certificate is not a valid X.509 certificate (${(err as Error).message})`,
    );
  }
}

/** Throws cert_expired when `now` is outside the certificate's validity dates. */
export function checkCertificateDates(cert: X509Certificate, now: Date): void {
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (!(now.getTime() >= notBefore && now.getTime() <= notAfter)) {
    throw new Rejection(
      'cert_expired',
      `the signing certificate is valid from ${new Date(notBefore).toISOString()} to ${new Date(notAfter).toISOString()}, not at ${now.toISOString()}`,
    );
  }
}

const STRICT_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const DIGESTS: Readonly<Record<string, string>> = { '1': 'sha1', '2': 'sha256' };

/** Throws bad_signature_version for a version other than "1" or "2". */
export function digestFor(signatureVersion: string): string {
  const digest = Object.hasOwn(DIGESTS, signatureVersion) ? DIGESTS[signatureVersion] : undefined;
  if (!digest) {
    throw new Rejection(
      'bad_signature_version',
      `SignatureVersion is ${JSON.stringify(signatureVersion.slice(0, 20))}; only "1" (SHA1withRSA) and "2" (SHA256withRSA) exist`,
    );
  }
  return digest;
}

/** Throws bad_signature unless Signature is a PKCS#1 v1.5 RSA signature of the canonical string by `cert`. */
export function checkSignature(envelope: Envelope, cert: X509Certificate): void {
  const digest = digestFor(envelope.fields.SignatureVersion);
  const key = cert.publicKey;
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Rejection('bad_signature', `the signing certificate holds a ${key.asymmetricKeyType} key, not RSA`);
  }
  // Strict base64 (no whitespace, right padding), as the reactor decodes it: Buffer.from alone skips junk.
  if (!STRICT_BASE64.test(envelope.fields.Signature) || envelope.fields.Signature.length % 4 !== 0) {
    throw new Rejection('bad_signature', 'Signature is not base64');
  }
  const signature = Buffer.from(envelope.fields.Signature, 'base64');
  const canonical = canonicalString(envelope);
  // A lone surrogate has no UTF-8 form: Buffer.from would sign U+FFFD in its place, the reactor cannot encode it.
  if (LONE_SURROGATE.test(canonical))
    throw new Rejection('bad_signature', 'a signed field holds text that is not valid Unicode');
  let ok = false;
  try {
    ok = signature.length > 0 && verify(digest, Buffer.from(canonical, 'utf8'), key, signature);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new Rejection(
      'bad_signature',
      `the SignatureVersion ${envelope.fields.SignatureVersion} signature does not match the message`,
    );
  }
}
