// `salt-autoscale render`: config in, the Salt master's files out (see docs/rendered-files.md).
import { basename, join, relative, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { type Config, masterNames, trustedTopicArns } from '../config/types.js';
import { EXIT, UserError } from '../errors.js';
import { fsProblem } from '../fs/errors.js';
import { type Io, type Outcome, outcome, type View } from '../io.js';
import { type Change, formatRows } from '../plan.js';
import { readAttestedInputs } from '../render/attested.js';
import { unifiedDiff } from '../render/diff.js';
import { DROP_IN, dropInKeys, type Owner, renderFiles } from '../render/files.js';
import { maskSecrets, secretLinesDiffer } from '../render/mask.js';
import { masterFileWarnings, neighbourWarnings } from '../render/master-check.js';
import { installPlan, lookupUser, type MasterFiles, masterOptions, readMasterFiles } from '../render/master-user.js';
import { withoutSeal } from '../render/seal.js';
import { EC2_USER_DATA_LIMIT, oversizedUserData } from '../render/userdata.js';
import {
  applyWrites,
  type FileStatus,
  findStale,
  type PlannedDir,
  type PlannedFile,
  planDirs,
  planWrites,
  type StaleFile,
  TargetError,
} from '../render/writer.js';

export interface RenderOptions {
  config: string;
  out: string;
  reactorOut?: string;
  dryRun?: boolean;
  diff?: boolean;
  force?: boolean;
  /** Remove render's own files that the config no longer produces. */
  prune?: boolean;
  /** Which master's files (config `masters`); required when there are several. */
  master?: string;
}

/** The master to render for: the one asked for, or the only one; several without --master is an error. */
export function chosenMaster(config: Config, file: string, asked: string | undefined): string {
  const names = masterNames(config);
  if (asked !== undefined) {
    if (!names.includes(asked))
      throw new UserError(
        `--master ${asked}: ${file} names no such master; its masters are ${names.join(', ')}.`,
        EXIT.usage,
      );
    return asked;
  }
  if (names.length === 1) return names[0];
  throw new UserError(
    `${file} names ${names.length} masters (${names.join(', ')}): say which one this is with --master <name>; ` +
      'each master gets its own drop-in (its own queue, and only the primary bootstraps once per instance).',
    EXIT.usage,
  );
}

const LABEL = { create: 'created', update: 'updated', conflict: 'replaced', unchanged: 'unchanged' } as const;
const WOULD = {
  create: 'would create',
  update: 'would update',
  conflict: 'edited by hand',
  unchanged: 'unchanged',
} as const;

/** What render wrote (or, for a dry run or a diff, would write). */
interface Rendered {
  files: PlannedFile[];
  /** Render's own earlier files the config no longer produces; removed when `pruned`. */
  stale: StaleFile[];
  pruned: boolean;
  /** Folders made (or handed over) for the master's user. */
  dirs: PlannedDir[];
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
  text({ files, stale, pruned, dirs, dryRun, show }) {
    const labels = dryRun ? WOULD : LABEL;
    // A forced replacement is an update; the list is short, so it is aligned on any output.
    const change = (f: PlannedFile) => (f.status === 'conflict' && !dryRun ? 'update' : CHANGE[f.status]);
    const owned = (owner?: Owner) => (owner ? `, owned by ${owner.user}` : '');
    const rows = [
      ...dirs
        .filter((d) => d.status !== 'unchanged')
        .map((d) => ({
          change: CHANGE[d.status],
          subject: [labels[d.status], `${show(d.path)}/`],
          detail: `(${d.role}${owned(d.owner)}, mode 0${d.mode.toString(8)})`,
        })),
      ...files.map((f) => ({
        change: change(f),
        subject: [labels[f.status], show(f.path)],
        detail: `(${f.role}${owned(f.owner)})`,
      })),
      // Render's own leftovers: deleted with --prune, else held back (and said how to remove them).
      ...stale.map((f) => ({
        change: (pruned ? 'delete' : 'blocked') as Change,
        subject: [pruned ? (dryRun ? 'would remove' : 'removed') : 'stale', show(f.path)],
        detail: `(${f.role}${pruned ? '' : '; --prune removes it'})`,
      })),
    ];
    return formatRows(rows, true) + summaryLine(files, stale, pruned, dryRun) + '\n';
  },
};

/** The --diff preview: one unified diff per changed file, secrets and seal lines masked. */
const diffView: View<{ files: PlannedFile[]; secrets: string[]; show: (path: string) => string }> = {
  text({ files, secrets, show }) {
    let out = '';
    for (const f of files) {
      if (f.status === 'unchanged') continue;
      // The seal is a hash of the lines above it: not content to review, and it may hide a secret's change.
      const masked = (text: string) => withoutSeal(maskSecrets(text, secrets));
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
      else if (!text && f.modeOnly)
        out += `${show(f.path)}: only its mode (0${f.mode.toString(8)})${f.owner ? ` or owner (${f.owner.user})` : ''} changes\n`;
    }
    return out;
  },
};

export async function run(io: Io, options: RenderOptions): Promise<Outcome> {
  const { config, file } = await loadConfig(options.config);
  const masterName = chosenMaster(config, file, options.master);
  if (config.delivery.mode === 'sqs' && !config.sns.topic_arn)
    throw new UserError(
      `${file}: delivery is sqs, but sns.topic_arn is not set, so the queue of master ${masterName} is not known yet.\n` +
        'Run `salt-autoscale provision` first (it creates the topic and a queue per master and writes the ARN into the config), then render. Nothing was written.',
      EXIT.usage,
    );
  // Installing into the Salt config dir: secret files and the reactor's folders go to the master's user.
  const installing = resolve(options.out) === resolve(config.salt.config_dir);
  const masterFiles: MasterFiles | undefined = installing
    ? await readMasterFiles(config.salt.config_dir, basename(DROP_IN))
    : undefined;
  const master = masterFiles ? masterOptions(masterFiles) : undefined;
  // On the master, attested user data pins the master's own key (its pki's master.pub) unless the config does.
  const masterPki = master
    ? (config.salt.pki_dir ?? master.pki_dir ?? join(config.salt.config_dir, 'pki', 'master'))
    : undefined;
  const attested = await readAttestedInputs(config, file, masterPki);
  let files = renderFiles(
    config,
    { outDir: options.out, reactorDir: options.reactorOut, configFile: file, master: masterName },
    attested,
  );
  const show = (p: string) => {
    const rel = relative(process.cwd(), p);
    return rel && !rel.startsWith('..') ? rel : p;
  };
  const oversized = oversizedUserData(files);
  if (oversized.length > 0) {
    throw new UserError(
      oversized
        .map(
          (f) =>
            `${show(f.path)} (${f.role}) would be ${f.bytes} bytes; EC2 accepts at most ${EC2_USER_DATA_LIMIT} bytes (16 KB) of user data.`,
        )
        .join('\n') +
        "\nNothing was written. Shorten the group's minion settings in the config (or move them into pillar).",
    );
  }
  let dirs: PlannedDir[] = [];
  if (master) {
    const install = installPlan(config, files, master, master.user ? lookupUser(master.user) : undefined);
    for (const w of install.warnings) io.warn(w);
    files = install.files;
    dirs = await planDirs(install.dirs);
  }
  const planned = await planWrites(files).catch((err) => {
    throw fsError(err);
  });
  const stale = await findStale(
    join(resolve(options.out), 'userdata'),
    /\.sh$/,
    files,
    'user data of a group no longer in the config',
  );
  // --diff is a preview like --dry-run: it writes nothing.
  const preview = Boolean(options.dryRun || options.diff);
  const secrets = [config.cloud_provider.key, config.alerts.email?.password].filter((s): s is string => !!s);

  if (options.diff) io.show(diffView, { files: planned, secrets, show });

  // Render's own earlier output is replaced as the config changes; a file edited by hand only with --force.
  const conflicts = planned.filter((f) => f.status === 'conflict');
  if (conflicts.length > 0 && !options.force && !preview) {
    throw new UserError(
      `${conflicts.length === 1 ? 'this file was' : 'these files were'} edited by hand since render wrote ${conflicts.length === 1 ? 'it' : 'them'} (or not written by salt-autoscale):\n` +
        conflicts.map((f) => `  ${show(f.path)}`).join('\n') +
        '\nNothing was written. Review the change with --diff, then re-run with --force to replace the edits.',
      EXIT.refused,
    );
  }

  const prune = Boolean(options.prune);
  if (!preview)
    await applyWrites({ files: planned, dirs, remove: prune ? stale : [] }).catch((err) => {
      throw fsError(err);
    });

  if (masterFiles) {
    const keys = dropInKeys(config, masterName);
    const { main, dropIns } = masterFiles;
    for (const w of main ? masterFileWarnings(main.text, main.path, keys) : []) io.warn(w);
    for (const w of neighbourWarnings(dropIns, DROP_IN, keys)) io.warn(w);
  }
  if (trustedTopicArns(config).length === 0) {
    io.warn(
      `${file}: sns.topic_arn is not set, so the reactor trusts no topic and rejects every notification.\n` +
        'Run `salt-autoscale provision` (it writes the ARN into the config), then render again.',
    );
  }
  return outcome(renderedView, { files: planned, stale, pruned: prune, dirs, dryRun: preview, show });
}

function summaryLine(planned: PlannedFile[], stale: StaleFile[], pruned: boolean, dryRun: boolean): string {
  const count = (s: string) => planned.filter((f) => f.status === s).length;
  const leftovers = stale.length
    ? pruned
      ? `, ${stale.length} ${dryRun ? 'to remove' : 'removed'}`
      : `, ${stale.length} stale (no longer in the config; --prune removes ${stale.length === 1 ? 'it' : 'them'})`
    : '';
  if (count('unchanged') === planned.length && !stale.length)
    return `${planned.length} files, all unchanged: nothing to do.`;
  const edited = count('conflict');
  const changes = dryRun
    ? `dry run, nothing written: ${count('create')} to create, ${count('update')} to update` +
      (edited ? `, ${edited} edited by hand (to replace them, add --force)` : '')
    : `${count('create')} created, ${count('update')} updated` + (edited ? `, ${edited} replaced` : '');
  return `${planned.length} files: ${changes}, ${count('unchanged')} unchanged${leftovers}`;
}

/** A file system failure, about the path the user knows (never a temp file), in words. */
function fsError(err: unknown): Error {
  const target = err instanceof TargetError ? err : undefined;
  const e = (target?.cause ?? err) as NodeJS.ErrnoException;
  const path = target?.path ?? e.path;
  if (!e.code || !path) return e;
  if (e.code === 'EACCES' || e.code === 'EPERM')
    return new UserError(
      `cannot write ${path}: permission denied. Run as a user who may write there (e.g. root for /etc/salt), or render into another folder with --out.`,
      EXIT.refused,
    );
  return new UserError(`cannot write ${path}: ${fsProblem(e, path)}`, EXIT.refused);
}
