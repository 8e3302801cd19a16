// `salt-autoscale verify MESSAGE.json|-`: judge a captured SNS message the way the reactor would, and say
// what it would do. Reads the reactor's cache (certificates, handled MessageIds) but never writes it.
import { accessSync, constants, existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { loadConfig } from '../config/load.js';
import { EXIT, UserError } from '../errors.js';
import { type Io, type Outcome, outcome } from '../io.js';
import { handledRecord } from '../sns/cache.js';
import { CertificateStore } from '../sns/certificate-store.js';
import { MAX_BODY_BYTES } from '../sns/envelope.js';
import { describeAction, saltReaction } from '../sns/reaction.js';
import { verifySettings } from '../sns/settings.js';
import { oversizedVerdict, type Verdict, verifyMessage } from '../sns/verify-message.js';

export interface VerifyOptions {
  config: string;
  json?: boolean;
  cacheDir?: string;
  /** false with --no-cache: ignore the reactor's cache. */
  cache?: boolean;
}

type Body = { text: string } | { oversized: number };

/**
 * How much of the input is read at most. Above MAX_BODY_BYTES the verdict is body_too_large anyway, but a
 * salt-api event capture carries the body twice (body and post), so the limit applies to its body only.
 */
const READ_LIMIT = 4 * MAX_BODY_BYTES;

function unreadable(source: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? (err as Error).message);
  return new UserError(
    `${source}: cannot read the message (${why}); pass a file holding the raw SNS body, or - for standard input`,
  );
}

/** Reads the message, stopping once it is larger than READ_LIMIT. */
async function readBody(source: string, stdin: NodeJS.ReadableStream): Promise<Body> {
  let stream: NodeJS.ReadableStream & { destroy?: () => void };
  try {
    stream = source === '-' ? stdin : (await open(source, 'r')).createReadStream();
  } catch (err) {
    throw unreadable(source, err);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += buf.length;
      if (size > READ_LIMIT) {
        if (source !== '-') stream.destroy?.();
        return { oversized: size };
      }
      chunks.push(buf);
    }
  } catch (err) {
    throw unreadable(source, err);
  }
  return { text: Buffer.concat(chunks).toString('utf8') };
}

/** How the reactor's cache was used, for the last line of the human output. */
function describeCache(cacheDir: string | undefined): string {
  if (!cacheDir) return 'no reactor cache (--no-cache)';
  if (!existsSync(cacheDir)) return `reactor cache ${cacheDir} (absent)`;
  try {
    accessSync(cacheDir, constants.R_OK | constants.X_OK);
    return `reactor cache ${cacheDir}`;
  } catch {
    return `reactor cache ${cacheDir} (not readable by this user: handled MessageIds cannot be seen; run as the master's user)`;
  }
}

/**
 * A message captured from Salt's event bus is salt-api's event data {"body": raw, "post": ..., "headers": ...}:
 * the reactor reads the SNS body from it, so verify does too. Anything else is taken as the raw body.
 */
export function snsBodyOf(text: string): { body: string; fromSaltEvent: boolean } {
  if (!/^\s*\{/.test(text) || !text.includes('"body"')) return { body: text, fromSaltEvent: false };
  try {
    const data = JSON.parse(text) as Record<string, unknown>;
    if (typeof data.body === 'string' && 'post' in data && !('Type' in data))
      return { body: data.body, fromSaltEvent: true };
  } catch {
    /* not JSON: judged as is */
  }
  return { body: text, fromSaltEvent: false };
}

export async function run(io: Io, message: string, options: VerifyOptions): Promise<Outcome> {
  const { config, file } = await loadConfig(options.config);
  const settings = verifySettings(config);
  if (options.cacheDir && options.cache === false) {
    throw new UserError('--cache-dir and --no-cache contradict each other: give one of them');
  }
  const cacheDir = options.cache === false ? undefined : (options.cacheDir ?? settings.cacheDir);
  if (options.cacheDir && options.cache !== false && !existsSync(options.cacheDir)) {
    throw new UserError(
      `--cache-dir ${options.cacheDir}: no such directory (the reactor's cache is reactor.cache_dir, by default /var/cache/salt/master/ec2-autoscale)`,
    );
  }
  const body = await readBody(message, io.stdin);
  const certificates = new CertificateStore({ cacheDir, timeoutMs: settings.certFetchTimeoutSeconds * 1000 });
  const input = 'oversized' in body ? undefined : snsBodyOf(body.text);
  const verdict =
    input === undefined
      ? oversizedVerdict((body as { oversized: number }).oversized)
      : await verifyMessage(input.body, settings, {
          now: () => new Date(),
          certificate: (url, now) => certificates.certificate(url, now),
          handled: (id) => (cacheDir ? handledRecord(cacheDir, id) : undefined),
        });
  if (input?.fromSaltEvent) io.say('(the input is salt-api event data: judging its "body", as the reactor does)\n');
  const view = { text: (v: Verdict) => toText(v, file, cacheDir), json: toJson };
  return outcome(view, verdict, verdict.verdict === 'accepted' ? EXIT.ok : EXIT.negative);
}

/** The --json shape: stable keys for scripts (and for comparing with the reactor vector by vector). */
export function toJson(v: Verdict) {
  const head =
    v.verdict === 'accepted' ? { verdict: v.verdict, outcome: v.outcome } : { verdict: v.verdict, reason: v.reason };
  return {
    ...head,
    explanation: v.explanation,
    ...(v.verdict === 'rejected' ? { remedy: v.remedy } : {}),
    reaction: v.reaction,
    /** What the reactor's run() returns to Salt ({} when it acts through side effects only, or rejects). */
    saltReaction: saltReaction(v.reaction),
    messageId: v.messageId ?? null,
    topicArn: v.topicArn ?? null,
  };
}

/** A sender-controlled value fit for one terminal line: quoted and escaped when it is not plain printable ASCII. */
function printable(value: string): string {
  const cut = value.length > 200 ? value.slice(0, 197) + '...' : value;
  return /^[\x20-\x7e]*$/.test(cut) ? cut : JSON.stringify(cut);
}

/** Control characters escaped, so no text can start a line of its own or drive the terminal. */
const oneLine = (text: string) =>
  text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function toText(v: Verdict, configFile: string, cacheDir: string | undefined): string {
  const lines: string[] = [];
  if (v.verdict === 'accepted') {
    lines.push(`accepted: ${v.outcome}`, `  ${oneLine(v.explanation)}`);
    if (v.messageId) lines.push(`  MessageId: ${printable(v.messageId)}`);
    lines.push('  reaction:', ...v.reaction.map((a) => `    - ${oneLine(describeAction(a))}`));
  } else {
    lines.push(`rejected: ${v.reason}`, `  ${oneLine(v.explanation)}`);
    if (v.messageId) lines.push(`  MessageId: ${printable(v.messageId)}`);
    if (v.topicArn) lines.push(`  TopicArn: ${printable(v.topicArn)}`);
    lines.push(
      `  what to do: ${v.remedy}`,
      '  reaction: none (the reactor logs one WARNING line with the reason code)',
    );
  }
  lines.push(`  checked with: ${configFile}, ${describeCache(cacheDir)}`);
  return lines.join('\n') + '\n';
}
