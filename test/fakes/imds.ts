// A fake EC2 instance metadata service that only speaks IMDSv2 (an instance with HttpTokens=required), on
// 127.0.0.1 and a free port. Behaviour follows the EC2 user guide ("Use the Instance Metadata Service to access
// instance metadata", "How Instance Metadata Service Version 2 works"):
// - PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds 1..21600 returns a token; a missing or
//   out-of-range TTL is 400; a PUT carrying X-Forwarded-For is 403 (IMDS refuses tokens through a proxy).
// - A GET without a valid, unexpired X-aws-ec2-metadata-token is 401; an unknown path is 404; other methods 405.
// - Served: /latest/meta-data/instance-id, /latest/dynamic/instance-identity/document and /rsa2048 (text/plain,
//   the exact bytes given), plus any extra paths.
// Every request is recorded, so tests can check the order and that each read carried the token.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeImdsOptions {
  instanceId: string;
  document: Buffer | string;
  rsa2048: string;
  extra?: Record<string, Buffer | string>;
}

export interface ImdsRequest {
  method: string;
  path: string;
  token: string | undefined;
  status: number;
}

export interface FakeImds {
  url: string;
  requests: ImdsRequest[];
  close(): Promise<void>;
}

export async function startFakeImds(options: FakeImdsOptions): Promise<FakeImds> {
  const tokens = new Map<string, number>(); // token -> expiry (ms)
  const paths = new Map<string, Buffer>(
    Object.entries({
      '/latest/meta-data/instance-id': options.instanceId,
      '/latest/dynamic/instance-identity/document': options.document,
      '/latest/dynamic/instance-identity/rsa2048': options.rsa2048,
      ...options.extra,
    }).map(([path, body]) => [path, Buffer.isBuffer(body) ? body : Buffer.from(body)]),
  );
  const requests: ImdsRequest[] = [];

  const answer = (req: IncomingMessage): [number, Buffer] => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return [405, Buffer.alloc(0)];
      if (req.headers['x-forwarded-for'] !== undefined) return [403, Buffer.from('Forbidden')];
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return [400, Buffer.from('Bad Request')];
      const token = randomBytes(30).toString('base64');
      tokens.set(token, Date.now() + ttl * 1000);
      return [200, Buffer.from(token)];
    }
    if (req.method !== 'GET') return [405, Buffer.alloc(0)];
    const token = req.headers['x-aws-ec2-metadata-token'];
    const expiry = typeof token === 'string' ? tokens.get(token) : undefined;
    if (expiry === undefined || expiry < Date.now()) return [401, Buffer.from('Unauthorized')];
    const body = paths.get(path);
    return body ? [200, body] : [404, Buffer.from('Not Found')];
  };

  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const [status, body] = answer(req);
      const token = req.headers['x-aws-ec2-metadata-token'];
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        token: typeof token === 'string' ? token : undefined,
        status,
      });
      res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
