// Step 2 (SigningCertURL) and the SubscribeURL rule. Pure. A URL is accepted only when it matches a strict
// pattern as a whole string, the same patterns as the reactor's: URL parsers disagree on odd inputs
// (backslashes, '@', whitespace, percent-escapes in the host), and a pattern leaves nothing to disagree on.
// A general parser is used only afterwards, to explain a refusal.
import { Rejection } from './codes.js';

export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$/;
/** https, host sns.<region>.amazonaws.com(.cn), a plain path of [A-Za-z0-9._/-] ending .pem; nothing else. */
export const CERT_URL_PATTERN = /^https:\/\/sns\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/[A-Za-z0-9._/-]*\.pem$/;
/** https, the SNS host, then printable ASCII except '#', '\' and space (the query carries the token). */
export const SUBSCRIBE_URL_PATTERN =
  /^https:\/\/sns\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/[\x21\x22\x24-\x5b\x5d-\x7e]*$/;

/** Why a URL fails the SNS rules, in words (for the explanation only: the decision is the pattern). */
export function whyNotSnsUrl(url: string, needPem: boolean): string {
  if (!url.startsWith('https://')) return 'it is not an https:// URL';
  const authority = url.slice('https://'.length).split(/[/?#]/, 1)[0];
  if (authority.includes('@') || authority.includes('\\'))
    return 'it carries user-info or a backslash before the path (user@host)';
  if (/\s/.test(authority)) return 'its host contains whitespace';
  if (authority.includes(':')) return 'it names a port';
  const host = /^sns\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(authority);
  if (!host || !REGION_PATTERN.test(host[1]))
    return `its host ${JSON.stringify(authority)} is not sns.<region>.amazonaws.com(.cn)`;
  const rest = url.slice('https://'.length + authority.length);
  if (!rest.startsWith('/')) return 'it has no path';
  if (rest.includes('#')) return 'it has a fragment (#...)';
  if (needPem && rest.includes('?')) return 'it has a query string';
  if (needPem && !rest.endsWith('.pem')) return 'its path does not end in .pem';
  return needPem
    ? 'its path has characters other than letters, digits, . _ / -'
    : 'it has characters that are not printable ASCII';
}

const shown = (url: string) => JSON.stringify(url.length > 200 ? url.slice(0, 197) + '...' : url);

/** Throws cert_url_invalid unless the certificate URL is on the SNS host of a region; returns that region. */
export function checkCertUrl(url: string): { host: string; region: string } {
  const m = CERT_URL_PATTERN.exec(url);
  if (!m || !REGION_PATTERN.test(m[1])) {
    throw new Rejection('cert_url_invalid', `SigningCertURL ${shown(url)} is refused: ${whyNotSnsUrl(url, true)}`);
  }
  return { host: url.slice('https://'.length).split('/', 1)[0], region: m[1] };
}

/** Throws subscribe_url_invalid unless SubscribeURL is on the SNS host of the topic's own region. */
export function checkSubscribeUrl(url: string, topicRegion: string): void {
  const m = SUBSCRIBE_URL_PATTERN.exec(url);
  if (!m)
    throw new Rejection('subscribe_url_invalid', `SubscribeURL ${shown(url)} is refused: ${whyNotSnsUrl(url, false)}`);
  if (m[1] !== topicRegion) {
    throw new Rejection(
      'subscribe_url_invalid',
      `SubscribeURL ${shown(url)} is refused: its region ${m[1]} is not the topic's region ${topicRegion}`,
    );
  }
}
