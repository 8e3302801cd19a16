// `salt-autoscale verify MESSAGE.json|-`: judge a captured SNS message with the reactor's own gate (the Python
// package render installs, run judge-only by python3 or --python), and say what the reactor would do. Every
// check that can run is reported; the verdict is the reactor's. Reads the reactor's cache, never writes it.

import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { EXIT, UserError } from '../errors.js';
import { type GateDecision, GateProblem, judgeWithGate } from '../gate/judge.js';
import { PythonMissing } from '../gate/python.js';
import { type Io, type Outcome, outcome } from '../io.js';
import { reactorSettings, smtpSettings } from '../render/salt-data.js';

export interface VerifyOptions {
  config: string;
  json?: boolean;
  cacheDir?: string;
  /** false with --no-cache: ignore the reactor's cache. */
  cache?: boolean;
  /** The interpreter that runs the gate (default python3), e.g. Salt's onedir /opt/saltstack/salt/bin/python3. */
  python?: string;
  /** Judge as of this time (ISO-8601), e.g. a captured message's arrival. */
  at?: string;
}

/** Salt's defaults, as the reactor takes them from the master's __opts__ when the config leaves them out. */
const DEFAULT_MASTER_CACHEDIR = '/var/cache/salt/master';
const DEFAULT_PKI_DIR = '/etc/salt/pki/master';
const MAX_BODY_BYTES = 256 * 1024;
/**
 * How much of the input is read at most. Above MAX_BODY_BYTES the verdict is body_too_large anyway, but a
 * salt-api event capture carries the body twice (body and post), so the limit applies to its body only.
 */
const READ_LIMIT = 4 * MAX_BODY_BYTES;
/** Reasons that say "could not judge here", not "forged": the certificate could not be had on this machine. */
const UNDETERMINED_REASONS = new Set(['cert_fetch_failed']);

function unreadable(source: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? (err as Error).message);
  return new UserError(
    `${source}: cannot read the message (${why}); pass a file holding the raw SNS body, or - for standard input`,
  );
}

/** Reads the message, stopping once it is larger than READ_LIMIT (what was read is then judged too large). */
async function readBody(source: string, stdin: NodeJS.ReadableStream): Promise<string> {
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
      chunks.push(buf);
      if (size > READ_LIMIT) {
        if (source !== '-') stream.destroy?.();
        break;
      }
    }
  } catch (err) {
    throw unreadable(source, err);
  }
  return Buffer.concat(chunks).toString('utf8');
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

function parseAt(at: string | undefined): number | undefined {
  if (at === undefined) return undefined;
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(at) ? Date.parse(at) : Number.NaN;
  if (Number.isNaN(ms))
    throw new UserError(`--at ${at}: not an ISO-8601 time with a zone (e.g. 2026-01-01T12:00:00Z, or a Timestamp)`);
  return ms / 1000;
}

/** The opts the reactor would see on the master (the drop-in's ec2.autoscale), minus every secret. */
export function gateOpts(config: Config, cacheDir?: string): Record<string, unknown> {
  const settings = reactorSettings(config);
  const smtp = smtpSettings(config);
  return {
    cachedir: DEFAULT_MASTER_CACHEDIR,
    pki_dir: config.salt.pki_dir ?? DEFAULT_PKI_DIR,
    'ec2.autoscale': { ...settings, cache_dir: cacheDir ?? settings.cache_dir },
    ...(smtp['smtp.host'] ? { 'smtp.host': smtp['smtp.host'] } : {}),
  };
}

export interface VerifyResult {
  decision?: GateDecision;
  /** Set when verify could not judge here (no interpreter, no crypto backend). */
  undetermined?: string;
  configFile: string;
  fromSaltEvent: boolean;
}

export async function run(io: Io, message: string, options: VerifyOptions): Promise<Outcome> {
  const { config, file } = await loadConfig(options.config);
  if (options.cacheDir && options.cache === false) {
    throw new UserError('--cache-dir and --no-cache contradict each other: give one of them');
  }
  if (options.cacheDir && !existsSync(options.cacheDir)) {
    throw new UserError(
      `--cache-dir ${options.cacheDir}: no such directory (the reactor's cache is reactor.cache_dir, by default /var/cache/salt/master/ec2-autoscale)`,
    );
  }
  const at = parseAt(options.at);
  const input = snsBodyOf(await readBody(message, io.stdin));
  const opts = gateOpts(config, options.cacheDir);
  const timeout = (reactorSettings(config).cert_fetch_timeout + 30) * 1000;
  const python = options.python ?? 'python3';
  const result: VerifyResult = { configFile: file, fromSaltEvent: input.fromSaltEvent };
  try {
    result.decision = await judgeWithGate(
      { opts, body: input.body, at, cache: options.cache !== false, explain: true },
      python,
      timeout,
    );
  } catch (err) {
    if (err instanceof PythonMissing)
      result.undetermined = `${python} was not found: verify runs the reactor's gate with Python 3.10 or later; install python3 or give --python PATH`;
    else if (err instanceof GateProblem && err.kind === 'store')
      throw new UserError(`the reactor's cache cannot be used: ${err.message}`);
    else if (err instanceof GateProblem) result.undetermined = err.message;
    else throw err;
  }
  if (input.fromSaltEvent) io.say('(the input is salt-api event data: judging its "body", as the reactor does)\n');
  return outcome({ text: toText, json: toJson }, result, exitCodeOf(result));
}

function exitCodeOf(r: VerifyResult): number {
  if (!r.decision) return EXIT.undetermined;
  if (r.decision.verdict === 'accepted') return EXIT.ok;
  return UNDETERMINED_REASONS.has(r.decision.reason ?? '') ? EXIT.undetermined : EXIT.negative;
}

/** The --json document (snake_case): the verdict, the reason, the reaction and every check. */
export function toJson(r: VerifyResult) {
  const d = r.decision;
  if (!d) return { verdict: 'undetermined', reason: null, detail: r.undetermined, reaction: [], checks: [] };
  const undetermined = d.verdict === 'rejected' && UNDETERMINED_REASONS.has(d.reason ?? '');
  return {
    verdict: undetermined ? 'undetermined' : d.verdict,
    reason: d.reason,
    detail: d.detail,
    remedy: d.remedy,
    outcome: d.outcome,
    message_id: d.message_id,
    topic_arn: d.topic_arn,
    reaction: d.actions,
    /** What the reactor's run() returns to Salt ({} when it acts through side effects only, or rejects). */
    salt_reaction: d.salt_reaction,
    checks: d.checks,
    judged_at: new Date(d.at * 1000).toISOString(),
    cache_dir: d.cache.dir,
    python: d.python,
  };
}

/**
 * A sender-controlled value fit for a terminal: control, format (bidi overrides, zero-width) and separator
 * characters and lone surrogates escaped, so no text can start a line of its own, reorder what is shown or
 * drive the terminal.
 */
export const escapeForTerminal = (text: string) =>
  text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function printable(value: string): string {
  const cut = value.length > 200 ? `${value.slice(0, 197)}...` : value;
  return /^[\x20-\x7e]*$/.test(cut) ? cut : JSON.stringify(cut).replace(/[^\x20-\x7e]/g, (c) => escapeForTerminal(c));
}

/** The confirmation token is long and confirms the subscription: people see its start only (--json has it all). */
const shortToken = (url: string) => url.replace(/([?&]Token=)([^&]{8})[^&]*/, '$1$2...');
const inline = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** One line per planned action, for people. */
export function describeAction(a: { action: string; [k: string]: unknown }): string {
  const kw = a.kwargs as Record<string, unknown> | undefined;
  switch (a.action) {
    case 'runner':
    case 'wheel':
      return `${a.action}.${a.fun} ${Object.entries(kw ?? {})
        .map(([k, v]) => `${k}=${inline(v)}`)
        .join(' ')}`;
    case 'write_autosign_stub':
      return `write autosign stub ${a.path} (mode 0600; the master accepts that minion's key once, within salt.autosign_timeout)`;
    case 'remove_autosign_stub':
      return `remove autosign stub ${a.path} if one is left`;
    case 'record_termination':
      return `remember ${a.instance_id} as terminated (a later launch message for it is refused)`;
    case 'confirm_subscription':
      return `confirm the subscription (GET ${shortToken(String(a.url))})`;
    case 'email_subscribe_url':
      return `email the confirmation link to alerts.email.to (${shortToken(String(a.url))})`;
    case 'alert':
      return `log ${a.level}${a.email ? ' and send an alert email' : ''}: ${a.message}`;
    case 'log':
      return `log ${a.level}: ${a.message}`;
    case 'record_handled':
      return `remember MessageId ${a.message_id} as handled (a repeat delivery is then ignored)`;
    default:
      return a.action;
  }
}

function explanation(d: GateDecision): string {
  const f = d.facts as { event?: string; group?: string; instance_id?: string | null };
  const what =
    d.outcome === 'subscription_confirmation'
      ? 'a subscription confirmation'
      : d.outcome === 'unsubscribe_confirmation'
        ? 'an unsubscribe confirmation'
        : `${f.event}${f.instance_id ? ` for ${f.instance_id}` : ''} in group ${f.group}`;
  return `${what}, signed by SNS, from trusted topic ${d.topic_arn}`;
}

function checksTable(d: GateDecision): string[] {
  const width = Math.max(...d.checks.map((c) => c.name.length));
  return [
    'checks, in the order the reactor runs them:',
    ...d.checks.map((c) => {
      const result = c.result === 'fail' ? `fail (${c.reason})` : c.result === 'not_run' ? 'not run' : 'pass';
      const detail = c.detail ? `  ${escapeForTerminal(c.detail)}` : '';
      return `  ${c.name.padEnd(width)}  ${result.padEnd(8)}${detail}`.trimEnd();
    }),
  ];
}

function toText(r: VerifyResult): string {
  const d = r.decision;
  if (!d) return `undetermined: ${r.undetermined}\n`;
  const lines: string[] = [];
  if (d.verdict === 'accepted') {
    lines.push(`accepted: ${d.outcome}`, `  ${escapeForTerminal(explanation(d))}`);
    if (d.message_id) lines.push(`  MessageId: ${printable(d.message_id)}`);
    lines.push('  reaction:', ...d.actions.map((a) => `    - ${escapeForTerminal(describeAction(a))}`));
  } else {
    const undetermined = UNDETERMINED_REASONS.has(d.reason ?? '');
    lines.push(
      undetermined ? `undetermined: ${d.reason} (this machine cannot judge the message)` : `rejected: ${d.reason}`,
      `  ${escapeForTerminal(d.detail)}`,
    );
    if (d.message_id) lines.push(`  MessageId: ${printable(d.message_id)}`);
    if (d.topic_arn) lines.push(`  TopicArn: ${printable(d.topic_arn)}`);
    lines.push(
      `  what to do: ${d.remedy}`,
      '  reaction: none (the reactor logs one WARNING line with the reason code)',
    );
  }
  lines.push('', ...checksTable(d), '');
  const cache = d.cache.dir ? `reactor cache ${d.cache.dir}${d.cache.absent ? ' (absent)' : ''}` : 'no reactor cache';
  lines.push(
    `checked with: ${r.configFile}, ${cache}, ${d.python}${d.backend ? ` (${d.backend})` : ''}, as of ${new Date(d.at * 1000).toISOString()}`,
  );
  return `${lines.join('\n')}\n`;
}
