// Step 2 (SigningCertURL) and the SubscribeURL rule. Pure. The URL is matched with a strict pattern of our
// own instead of a general URL parser: parsers disagree on odd inputs (backslashes, '@', percent-escapes in
// the host), and a URL that any parser could read as a host other than sns.<region>.amazonaws.com must fail.
import { Rejection } from './codes.js';

export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;

// scheme, then an authority of host characters only (so no user-info '@', no port ':', no '\'), then a path.
const HTTPS_URL = /^https:\/\/([A-Za-z0-9.-]+)(\/[^?#\\\s]*)?(\?[^#\\\s]*)?(#.*)?$/s;
const SNS_HOST = /^sns\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

export interface SnsUrl {
  host: string;
  region: string;
  path: string;
  query: string;
}

/** Splits an https URL whose host is exactly sns.<region>.amazonaws.com(.cn); returns why not otherwise. */
export function parseSnsUrl(url: string): SnsUrl | string {
  if (!url.startsWith('https://')) return 'it is not an https:// URL';
  const m = HTTPS_URL.exec(url);
  if (!m) {
    const authority = url.slice('https://'.length).split(/[/?#]/, 1)[0];
    if (authority.includes('@')) return 'it carries user-info (user@host)';
    if (authority.includes(':')) return 'it names a port';
    return 'its host part is not a plain host name';
  }
  const [, host, path = '', query = '', fragment] = m;
  const hm = SNS_HOST.exec(host);
  if (!hm || !REGION_PATTERN.test(hm[1])) {
    return `its host ${JSON.stringify(host)} is not sns.<region>.amazonaws.com(.cn)`;
  }
  if (fragment !== undefined) return 'it has a fragment (#...)';
  return { host, region: hm[1], path, query };
}

/** Throws cert_url_invalid unless the certificate URL is on the SNS host of a region, with no query, ending .pem. */
export function checkCertUrl(url: string): SnsUrl {
  const parsed = parseSnsUrl(url);
  const bad = (why: string) => new Rejection('cert_url_invalid', `SigningCertURL ${JSON.stringify(url.slice(0, 200))} is refused: ${why}`);
  if (typeof parsed === 'string') throw bad(parsed);
  if (parsed.query) throw bad('it has a query string');
  if (!parsed.path.endsWith('.pem')) throw bad('its path does not end in .pem');
  return parsed;
}

/** Throws subscribe_url_invalid unless SubscribeURL is on the SNS host of the topic's own region. */
export function checkSubscribeUrl(url: string, topicRegion: string): SnsUrl {
  const parsed = parseSnsUrl(url);
  const bad = (why: string) => new Rejection('subscribe_url_invalid', `SubscribeURL ${JSON.stringify(url.slice(0, 200))} is refused: ${why}`);
  if (typeof parsed === 'string') throw bad(parsed);
  if (parsed.region !== topicRegion) throw bad(`its region ${parsed.region} is not the topic's region ${topicRegion}`);
  return parsed;
}
