// `salt-autoscale render`: config in, the Salt master's files out (see docs/rendered-files.md).
import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { trustedTopicArns } from '../config/types.js';
import { EXIT, UserError } from '../errors.js';
import { type Io, type Outcome, outcome, type View } from '../io.js';
import { type Change, formatRows } from '../plan.js';
import { unifiedDiff } from '../render/diff.js';
import { renderFiles } from '../render/files.js';
import { maskSecrets, secretLinesDiffer } from '../render/mask.js';
import { masterFileWarnings } from '../render/master-check.js';
import { maskSeal } from '../render/seal.js';
import { applyWrites, type FileStatus, type PlannedFile, planWrites } from '../render/writer.js';

export interface RenderOptions {
  config: string;
  out: string;
  reactorOut?: string;
  dryRun?: boolean;
  diff?: boolean;
  force?: boolean;
}

const LABEL = { create: 'created', update: 'updated', conflict: 'replaced', unchanged: 'unchanged' } as const;
const WOULD = {
  create: 'would create',
  update: 'would update',
  conflict: 'edited by hand',
  unchanged: 'unchanged',
} as const;

/** What render wrote (or, for a dry run, would write). */
interface Rendered {
  files: PlannedFile[];
  dryRun: boolean;
  /** A path as the user would type it: relative to the working directory when below it. */
  show: (path: string) => string;
}

/** Render's files in the one plan vocabulary: a file edited by hand is blocked until --force. */
const CHANGE: Record<FileStatus, Change> = {
  create: 'create',
  update: 'update',
  conflict: 'blocked',
  unchanged: 'unchanged',
};

const renderedView: View<Rendered> = {
  text({ files, dryRun, show }) {
    const labels = dryRun ? WOULD : LABEL;
    // A forced replacement is an update; the list is short, so it is aligned on any output.
    const change = (f: PlannedFile) => (f.status === 'conflict' && !dryRun ? 'update' : CHANGE[f.status]);
    const rows = files.map((f) => ({
      change: change(f),
      subject: [labels[f.status], show(f.path)],
      detail: `(${f.role})`,
    }));
    return formatRows(rows, true) + summaryLine(files, dryRun) + '\n';
  },
};

/** The --diff preview: one unified diff per changed file, secrets and seal lines masked. */
const diffView: View<{ files: PlannedFile[]; secrets: string[]; show: (path: string) => string }> = {
  text({ files, secrets, show }) {
    let out = '';
    for (const f of files) {
      if (f.status === 'unchanged') continue;
      const masked = (text: string) => maskSeal(maskSecrets(text, secrets));
      const text = unifiedDiff(
        masked(f.current),
        masked(f.content),
        f.status === 'create' ? '/dev/null' : `a/${show(f.path)}`,
        `b/${show(f.path)}`,
      );
      const secretChanged = f.status !== 'create' && secretLinesDiffer(f.current, f.content);
      out += text;
      if (secretChanged)
        out += `${show(f.path)}: ${text ? 'a secret value changes too' : 'only a secret value changes'} (masked)\n`;
      else if (!text && f.modeOnly) out += `mode of ${show(f.path)} changes to ${f.mode.toString(8)}\n`;
    }
    return out;
  },
};

export async function run(io: Io, options: RenderOptions): Promise<Outcome> {
  const { config, file } = await loadConfig(options.config);
  const files = renderFiles(config, { outDir: options.out, reactorDir: options.reactorOut, configFile: file });
  const planned = await planWrites(files).catch((err) => {
    throw fsError(err);
  });
  const secrets = [config.cloud_provider.key, config.alerts.email?.password].filter((s): s is string => !!s);
  const show = (p: string) => {
    const rel = relative(process.cwd(), p);
    return rel && !rel.startsWith('..') ? rel : p;
  };

  if (options.diff) io.show(diffView, { files: planned, secrets, show });

  // Render's own earlier output is replaced as the config changes; a file edited by hand only with --force.
  const conflicts = planned.filter((f) => f.status === 'conflict');
  if (conflicts.length > 0 && !options.force && !options.dryRun) {
    throw new UserError(
      `${conflicts.length === 1 ? 'this file was' : 'these files were'} edited by hand since render wrote ${conflicts.length === 1 ? 'it' : 'them'} (or not written by salt-autoscale):\n` +
        conflicts.map((f) => `  ${show(f.path)}`).join('\n') +
        '\nNothing was written. Review the change with --diff, then re-run with --force to replace the edits.',
      EXIT.refused,
    );
  }

  if (!options.dryRun)
    await applyWrites(planned).catch((err) => {
      throw fsError(err);
    });

  if (resolve(options.out) === resolve(config.salt.config_dir)) {
    const masterPath = join(config.salt.config_dir, 'master');
    const text = await readFile(masterPath, 'utf8').catch(() => undefined);
    for (const w of text === undefined ? [] : masterFileWarnings(text, masterPath)) io.warn(w);
  }
  if (trustedTopicArns(config).length === 0) {
    io.warn(
      `${file}: sns.topic_arn is not set, so the reactor trusts no topic and rejects every notification.\n` +
        'Run `salt-autoscale provision` (it writes the ARN into the config), then render again.',
    );
  }
  return outcome(renderedView, { files: planned, dryRun: Boolean(options.dryRun), show });
}

function summaryLine(planned: PlannedFile[], dryRun: boolean): string {
  const count = (s: string) => planned.filter((f) => f.status === s).length;
  if (count('unchanged') === planned.length) return `${planned.length} files, all unchanged: nothing to do.`;
  const edited = count('conflict');
  const changes = dryRun
    ? `dry run, nothing written: ${count('create')} to create, ${count('update')} to update` +
      (edited ? `, ${edited} edited by hand (to replace them, add --force)` : '')
    : `${count('create')} created, ${count('update')} updated` + (edited ? `, ${edited} replaced` : '');
  return `${planned.length} files: ${changes}, ${count('unchanged')} unchanged`;
}

function fsError(err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES' || e.code === 'EPERM') {
    return new UserError(
      `cannot write ${e.path}: permission denied. Run as a user who may write there (e.g. root for /etc/salt), or render into another folder with --out.`,
      EXIT.refused,
    );
  }
  if (
    e.code === 'ENOTFILE' ||
    e.code === 'EISDIR' ||
    e.code === 'ENOTDIR' ||
    e.code === 'EROFS' ||
    e.code === 'ENOSPC'
  ) {
    return new UserError(`cannot write ${e.path ?? ''}: ${e.message}`, EXIT.refused);
  }
  return e;
}
