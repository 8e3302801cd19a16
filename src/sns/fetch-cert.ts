// Fetches the signing certificate over HTTPS with certificate verification on. Node's fetch ignores proxy
// variables (Node 20), so this opens the connection itself: direct, or through an HTTP CONNECT tunnel named
// in https_proxy / HTTPS_PROXY (honouring no_proxy), with the bundled roots plus any CA file named in
// SSL_CERT_FILE / NODE_EXTRA_CA_CERTS (read at call time, so tests and operators can point at their own CA).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { Rejection } from './codes.js';

/** A certificate is a few KiB; refuse to buffer more than this. */
export const MAX_CERT_BYTES = 64 * 1024;

export interface FetchOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

export interface ProxyTarget {
  host: string;
  port: number;
  /** Basic credentials from the proxy URL, if any (sent as Proxy-Authorization, never printed). */
  auth?: string;
}

/** The proxy to use for an https URL to `host`, per https_proxy/HTTPS_PROXY and no_proxy/NO_PROXY. */
export function proxyFor(host: string, env: NodeJS.ProcessEnv): ProxyTarget | undefined {
  const raw = env.https_proxy || env.HTTPS_PROXY;
  if (!raw) return undefined;
  const noProxy = (env.no_proxy ?? env.NO_PROXY ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const h = host.toLowerCase();
  for (const entry of noProxy) {
    if (entry === '*') return undefined;
    const domain = entry.replace(/^\*?\./, '').replace(/:\d+$/, '');
    if (h === domain || h.endsWith('.' + domain)) return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new Rejection('cert_fetch_failed', 'https_proxy is set but is not a URL (expected http://host:port)');
  }
  if (url.protocol !== 'http:') {
    throw new Rejection(
      'cert_fetch_failed',
      `https_proxy uses ${url.protocol}//; only an http:// proxy (CONNECT) is supported`,
    );
  }
  const auth = url.username ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined;
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80), ...(auth ? { auth } : {}) };
}

/** Node's bundled roots plus the PEM files named in SSL_CERT_FILE and NODE_EXTRA_CA_CERTS. */
export function trustedCas(env: NodeJS.ProcessEnv): string[] {
  const cas = [...tls.rootCertificates];
  for (const name of ['SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS'] as const) {
    const file = env[name];
    if (!file) continue;
    try {
      cas.push(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Rejection(
        'cert_fetch_failed',
        `${name}=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  }
  return cas;
}

/** Opens a TCP tunnel to host:443 through the proxy. */
function connectThroughProxy(proxy: ProxyTarget, host: string, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: proxy.host,
      port: proxy.port,
      method: 'CONNECT',
      path: `${host}:443`,
      headers: {
        host: `${host}:443`,
        ...(proxy.auth ? { 'proxy-authorization': `Basic ${Buffer.from(proxy.auth).toString('base64')}` } : {}),
      },
      signal,
    });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`the proxy ${proxy.host}:${proxy.port} answered CONNECT with HTTP ${res.statusCode}`));
        return;
      }
      resolve(socket);
    });
    req.once('error', (err) =>
      reject(new Error(`cannot reach the proxy ${proxy.host}:${proxy.port} (${describeError(err)})`)),
    );
    req.end();
  });
}

function openTls(host: string, tunnel: Socket | undefined, ca: string[], signal: AbortSignal): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      ...(tunnel ? { socket: tunnel } : { host, port: 443 }),
      servername: host,
      ca,
      rejectUnauthorized: true,
      ALPNProtocols: ['http/1.1'],
    });
    const onAbort = () => socket.destroy(new Error('timed out'));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(socket);
    });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(new Error(`TLS connection to ${host} failed (${describeError(err)})`));
    });
  });
}

function httpGet(host: string, path: string, socket: tls.TLSSocket, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host,
      path,
      method: 'GET',
      headers: { host, accept: 'application/x-x509-ca-cert, */*', 'user-agent': 'salt-autoscale-verify' },
      createConnection: () => socket,
      signal,
    });
    req.once('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`the server answered HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_CERT_BYTES) {
          // no certificate is that large: what was served is not one (the reactor's reason too)
          req.destroy(
            new Rejection(
              'cert_invalid',
              `https://${host}${path} served more than ${MAX_CERT_BYTES} bytes, not a certificate`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : e.message;
}

/**
 * GETs the certificate at `url`, an https URL already checked by checkCertUrl; throws cert_fetch_failed (or
 * cert_invalid for an oversized answer). The path is sent exactly as written, as Python's urllib does (a
 * URL parser would resolve '/x/../' first and fetch another path than the reactor).
 */
export async function fetchCertificate(url: string, options: FetchOptions): Promise<string> {
  const env = options.env ?? process.env;
  const rest = url.replace(/^https:\/\//i, '');
  const slash = rest.search(/[/?]/);
  const target = {
    hostname: slash < 0 ? rest : rest.slice(0, slash),
    path: slash < 0 ? '/' : rest.slice(slash).replace(/^\?/, '/?'),
  };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  let socket: tls.TLSSocket | undefined;
  try {
    const proxy = proxyFor(target.hostname, env);
    const ca = trustedCas(env);
    const tunnel = proxy ? await connectThroughProxy(proxy, target.hostname, controller.signal) : undefined;
    socket = await openTls(target.hostname, tunnel, ca, controller.signal);
    return await httpGet(target.hostname, target.path, socket, controller.signal);
  } catch (err) {
    if (err instanceof Rejection) throw err;
    const why = controller.signal.aborted ? `no answer within ${options.timeoutMs / 1000} s` : (err as Error).message;
    throw new Rejection('cert_fetch_failed', `cannot fetch the signing certificate ${url}: ${why}`);
  } finally {
    clearTimeout(timer);
    socket?.destroy();
  }
}
