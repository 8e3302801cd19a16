// Where verify gets signing certificates: memory (one process judging many messages), then the reactor's
// on-disk cache (read-only), then the network. A corrupt cached file is skipped, as the reactor does.
import type { X509Certificate } from 'node:crypto';
import { readCachedCertificate } from './cache.js';
import { Rejection } from './codes.js';
import { type FetchOptions, fetchCertificate } from './fetch-cert.js';
import { parseCertificate } from './signature.js';

const validAt = (cert: X509Certificate, now: Date) =>
  now.getTime() >= Date.parse(cert.validFrom) && now.getTime() <= Date.parse(cert.validTo);

export type Fetcher = (url: string, options: FetchOptions) => Promise<string>;

export class CertificateStore {
  private readonly memory = new Map<string, X509Certificate>();
  /** How many times the network was asked (the benchmark's target for many messages is 1). */
  fetches = 0;

  constructor(
    private readonly options: { cacheDir?: string; timeoutMs: number; fetcher?: Fetcher; env?: NodeJS.ProcessEnv },
  ) {}

  /** A cached copy is used only while valid at `now`, as the reactor does; otherwise it is fetched again. */
  async certificate(url: string, now: Date): Promise<X509Certificate> {
    const known = this.memory.get(url);
    if (known && validAt(known, now)) return known;
    const cached = this.options.cacheDir ? readCachedCertificate(this.options.cacheDir, url) : undefined;
    if (cached) {
      try {
        const cert = parseCertificate(cached);
        if (validAt(cert, now)) return this.remember(url, cert);
      } catch (err) {
        if (!(err instanceof Rejection)) throw err; // a corrupt cache file: fall through to the network
      }
    }
    this.fetches++;
    const pem = await (this.options.fetcher ?? fetchCertificate)(url, {
      timeoutMs: this.options.timeoutMs,
      env: this.options.env,
    });
    return this.remember(url, parseCertificate(pem));
  }

  private remember(url: string, cert: X509Certificate): X509Certificate {
    this.memory.set(url, cert);
    return cert;
  }
}
