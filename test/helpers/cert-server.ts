// A stand-in for https://sns.<region>.amazonaws.com on 127.0.0.1, reached the way a real master reaches it:
// through an HTTP CONNECT proxy named in https_proxy, with TLS verified against the test CA (SSL_CERT_FILE).
// The code under test keeps its real fetch path; only the environment points it here.
//
// Self-contained (Node built-ins only), so the bench scripts can load it too.
//
// ── Interface ────────────────────────────────────────────────────────────────────────────────────────────
//   const server = await startCertServer({ tls: set.tls, caFile: set.caFile, certs: set.certs });
//   server.env        // { https_proxy, HTTPS_PROXY, SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, no_proxy: '', NO_PROXY: '' }
//                     //   merge into the child's environment (python3 or the built CLI)
//   server.requests   // every HTTP request served: { method, host, path, time }
//   server.connects   // every CONNECT target the proxy was asked for (host:port), allowed or not
//   server.fetches(pathOrPrefix) // how many requests hit that path (exact), or start with it (prefix ending in *)
//   server.reset()    // forget recorded requests
//   await server.close()
// Answers: a path in `certs` -> 200 with that body; a path starting with /?Action=ConfirmSubscription or
// /?Action=Unsubscribe -> 200 with an SNS-shaped XML response; anything else -> 404.
// The proxy only tunnels to sns.<region>.amazonaws.com[.cn]:443 (403 otherwise), so a test can never reach
// the internet, and a reactor bug that fetches from another host shows up as a refused CONNECT.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { type AddressInfo, connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface ServedRequest {
  method: string;
  host: string;
  path: string;
  time: number;
}

export interface CertServer {
  proxyUrl: string;
  httpsPort: number;
  env: Record<string, string>;
  requests: ServedRequest[];
  connects: string[];
  fetches(path: string): number;
  reset(): void;
  close(): Promise<void>;
}

export interface CertServerOptions {
  tls: { certPem: string; keyPem: string };
  caFile: string;
  certs: Record<string, string>;
  /** Delay every answer by this many ms (timeouts). */
  delayMs?: number;
  /** The HTTP status to serve a path in `certs` with (default 200), e.g. 203 for a non-authoritative copy. */
  statuses?: Record<string, number>;
}

const SNS_TUNNEL_TARGET = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?:443$/;

function listen(server: HttpServer | HttpsServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startCertServer(opts: CertServerOptions): Promise<CertServer> {
  const requests: ServedRequest[] = [];
  const connects: string[] = [];
  const sockets = new Set<Duplex>();
  const timers = new Set<NodeJS.Timeout>();

  const https = createHttpsServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, (req, res) => {
    const path = req.url ?? '/';
    requests.push({ method: req.method ?? 'GET', host: String(req.headers.host ?? ''), path, time: Date.now() });
    const answer = () => {
      const cert = opts.certs[path];
      if (cert !== undefined) {
        res.writeHead(opts.statuses?.[path] ?? 200, { 'content-type': 'application/x-x509-ca-cert' }).end(cert);
      } else if (path.startsWith('/?Action=ConfirmSubscription') || path.startsWith('/?Action=Unsubscribe')) {
        const action = path.startsWith('/?Action=Confirm') ? 'ConfirmSubscription' : 'Unsubscribe';
        res
          .writeHead(200, { 'content-type': 'text/xml' })
          .end(
            `<${action}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><${action}Result>` +
              `<SubscriptionArn>arn:aws:sns:us-east-1:123456789012:salt-autoscale:0b5e4f0c-1d2e-4f3a-8b9c-0d1e2f3a4b5c</SubscriptionArn>` +
              `</${action}Result><ResponseMetadata><RequestId>7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2f10</RequestId></ResponseMetadata></${action}Response>`,
          );
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
      }
    };
    if (opts.delayMs) {
      const t = setTimeout(() => {
        timers.delete(t);
        answer();
      }, opts.delayMs);
      timers.add(t);
    } else answer();
  });
  https.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const httpsPort = await listen(https);

  const proxy = createHttpServer((_req, res) => {
    // Plain-HTTP proxy requests (an http:// URL) are refused: nothing should ever fetch a cert over http.
    res.writeHead(403).end('only CONNECT to SNS hosts\n');
  });
  proxy.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  proxy.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    connects.push(target);
    if (!SNS_TUNNEL_TARGET.test(target)) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = connect(httpsPort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const proxyPort = await listen(proxy);
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;

  return {
    proxyUrl,
    httpsPort,
    env: {
      https_proxy: proxyUrl,
      HTTPS_PROXY: proxyUrl,
      no_proxy: '',
      NO_PROXY: '',
      SSL_CERT_FILE: opts.caFile,
      NODE_EXTRA_CA_CERTS: opts.caFile,
    },
    requests,
    connects,
    fetches: (path) =>
      path.endsWith('*')
        ? requests.filter((r) => r.path.startsWith(path.slice(0, -1))).length
        : requests.filter((r) => r.path === path).length,
    reset: () => {
      requests.length = 0;
      connects.length = 0;
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await Promise.all([https, proxy].map((srv) => new Promise<void>((r) => srv.close(() => r()))));
    },
  };
}
