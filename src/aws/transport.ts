// How the SDK's requests leave this machine: time limits, the proxy and the CA bundle, as the AWS CLI takes them.
//
// - Time: every attempt gets SALT_AUTOSCALE_AWS_TIMEOUT seconds (or --aws-timeout; default 10) to connect and
//   to answer. The SDK's own requestTimeout only logs a warning unless throwOnRequestTimeout is set, so an
//   endpoint that accepts and never answers used to hold a command for minutes.
// - Proxy: HTTPS_PROXY/https_proxy for https endpoints, HTTP_PROXY/http_proxy for http ones, NO_PROXY/no_proxy
//   to bypass (proxy-from-env reads them as curl and the AWS CLI do). The tunnelling is https-proxy-agent's
//   (CONNECT) and http-proxy-agent's (absolute-URI forwarding); agent-base lets one agent pick per request,
//   because the SNS and Auto Scaling endpoints may differ (AWS_ENDPOINT_URL_SNS, a profile's endpoint_url).
// - AWS_CA_BUNDLE: a PEM file that replaces the default trust store for AWS endpoints (as the AWS CLI does);
//   NODE_EXTRA_CA_CERTS still adds to the default store as usual.
import { readFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { type AgentConnectOpts, Agent as DispatchAgent } from 'agent-base';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { EXIT, UserError } from '../errors.js';

export const DEFAULT_TIMEOUT_SECONDS = 10;
export const TIMEOUT_ENV = 'SALT_AUTOSCALE_AWS_TIMEOUT';

/** The per-attempt time limit in ms: --aws-timeout, else SALT_AUTOSCALE_AWS_TIMEOUT, else 10 s. */
export function resolveTimeoutMs(flag: string | number | undefined, env: NodeJS.ProcessEnv): number {
  const [raw, where] = flag !== undefined ? [String(flag), '--aws-timeout'] : [env[TIMEOUT_ENV], TIMEOUT_ENV as string];
  if (raw === undefined || raw === '') return DEFAULT_TIMEOUT_SECONDS * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600)
    throw new UserError(
      `${where} must be a number of seconds between 0 and 3600 (e.g. 30), not ${JSON.stringify(raw)}`,
      EXIT.usage,
    );
  return Math.round(seconds * 1000);
}

function readCaBundle(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.AWS_CA_BUNDLE;
  if (!file) return undefined;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(
      `AWS_CA_BUNDLE names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): point it at a PEM file of CA certificates, or unset it`,
      EXIT.usage,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new UserError(
      `AWS_CA_BUNDLE names ${file}, which holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      EXIT.usage,
    );
  return pem;
}

function checkProxyUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid://');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new UserError(
      `the proxy ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//…@'))} (HTTPS_PROXY/HTTP_PROXY) is not an http:// or https:// URL`,
      EXIT.usage,
    );
}

/** Picks, per request, a direct agent or the proxy agent that proxy-from-env names for the target URL. */
class ProxyDispatch extends DispatchAgent {
  private readonly proxies = new Map<string, HttpAgent>();
  constructor(
    private readonly direct: { http: HttpAgent; https: HttpsAgent },
    ca: string | undefined,
  ) {
    // Options given here reach every request's connect options, so `ca` also verifies the endpoint at the far
    // end of a CONNECT tunnel (https-proxy-agent's own options are for the proxy connection only).
    super({ keepAlive: true, ...(ca ? { ca } : {}) });
  }
  connect(_req: ClientRequest, opts: AgentConnectOpts): HttpAgent {
    const secure = opts.secureEndpoint;
    const target = `${secure ? 'https' : 'http'}://${opts.host}:${opts.port}`;
    const proxy = getProxyForUrl(target);
    if (!proxy) return secure ? this.direct.https : this.direct.http;
    const key = `${secure}|${proxy}`;
    let agent = this.proxies.get(key);
    if (!agent) {
      checkProxyUrl(proxy);
      // No keep-alive through a forwarding proxy: http-proxy-agent rewrites the request line to an absolute URI
      // only when it connects, so a request on a reused socket would reach the proxy with a bare path.
      agent = secure
        ? new HttpsProxyAgent(proxy, { keepAlive: true })
        : new HttpProxyAgent(proxy, { keepAlive: false });
      this.proxies.set(key, agent);
    }
    return agent;
  }
}

/** The SDK's NodeHttpHandler settings: agents (proxy, CA bundle) and time limits. */
export function requestHandlerConfig(timeoutMs: number, env: NodeJS.ProcessEnv = process.env) {
  const ca = readCaBundle(env);
  const direct = {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true, ...(ca ? { ca } : {}) }),
  };
  const agent = new ProxyDispatch(direct, ca);
  return {
    httpAgent: agent,
    httpsAgent: agent,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    throwOnRequestTimeout: true,
  };
}
