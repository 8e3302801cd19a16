// A test egress proxy on 127.0.0.1, like the one in front of a master in a private subnet: CONNECT tunnels
// (for https endpoints) to the hosts in `routes` only, and absolute-URI forwarding (for http endpoints). It
// records what it was asked, so a test can tell a proxied call from a direct one. Test code only.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestProxy {
  url: string;
  /** CONNECT targets asked for (host:port), refused ones included. */
  connects: string[];
  /** Absolute URIs forwarded (plain http). */
  forwarded: string[];
  close(): Promise<void>;
}

/** `routes`: "host:443" -> the local port to tunnel to (e.g. the fake's TLS port). Anything else: 403. */
export async function startTestProxy(routes: Record<string, number>): Promise<TestProxy> {
  const connects: string[] = [];
  const forwarded: string[] = [];
  const server = createServer((req, res) => {
    forwarded.push(req.url ?? '');
    const target = new URL(req.url ?? '');
    if (target.hostname !== '127.0.0.1') {
      res.writeHead(403).end();
      return;
    }
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: req.method,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  // CONNECT tunnels leave the HTTP server's bookkeeping, so close() destroys every socket it saw itself.
  const sockets = new Set<{ destroy(): void }>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req, client, head) => {
    const target = req.url ?? '';
    connects.push(target);
    const port = routes[target];
    if (!port) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = connect(port, '127.0.0.1', () => {
      sockets.add(upstream);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connects,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A self-signed certificate (it is its own CA) for these DNS names and 127.0.0.1, made with openssl. */
export function selfSignedIdentity(names: string[]): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'salt-autoscale-tls-'));
  try {
    const san = ['IP:127.0.0.1', ...names.map((n) => `DNS:${n}`)].join(',');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2']
        .concat(['-subj', `/CN=${names[0] ?? 'localhost'}`, '-addext', `subjectAltName=${san}`])
        .concat(['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]),
      { stdio: 'pipe' },
    );
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
