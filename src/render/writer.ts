// The filesystem side of render: compare each file with what is on disk, then write them all or none.
import { randomBytes } from 'node:crypto';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Owner, RenderedFile } from './files.js';
import { isPristine } from './seal.js';

/** update: replaces render's own earlier output; conflict: the file on disk was edited by hand (or is not ours). */
export type FileStatus = 'create' | 'update' | 'conflict' | 'unchanged';

export interface PlannedFile extends RenderedFile {
  status: FileStatus;
  /** What is on disk now ('' when absent). */
  current: string;
  /** Only the mode (or the owner) differs. */
  modeOnly: boolean;
}

/** A file render wrote earlier (its seal still matches) that the config no longer produces. */
export interface StaleFile {
  path: string;
  role: string;
}

/** A folder the master's processes write to, to be created (or handed over) for the master's user. */
export interface PlannedDir {
  path: string;
  mode: number;
  owner: Owner;
  role: string;
  status: 'create' | 'update' | 'unchanged';
}

/** An error about the path the user knows (the target), not the temp file beside it. */
export class TargetError extends Error {
  constructor(
    readonly path: string,
    readonly cause: NodeJS.ErrnoException,
  ) {
    super(`${path}: ${cause.code ?? cause.message}`);
    this.name = 'TargetError';
  }
  get code() {
    return this.cause.code;
  }
}

const sameOwner = (st: { uid: number; gid: number }, owner?: Owner) =>
  !owner || (st.uid === owner.uid && st.gid === owner.gid);

export async function planWrites(files: RenderedFile[]): Promise<PlannedFile[]> {
  return Promise.all(
    files.map(async (file) => {
      let current: string;
      let st: Awaited<ReturnType<typeof lstat>>;
      try {
        st = await lstat(file.path);
        if (!st.isFile())
          throw Object.assign(new Error('it exists and is not a regular file'), { code: 'ENOTFILE', path: file.path });
        current = await readFile(file.path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT')
          return { ...file, status: 'create' as const, current: '', modeOnly: false };
        throw new TargetError(file.path, err as NodeJS.ErrnoException);
      }
      const sameContent = current === file.content;
      const sameMeta = (st.mode & 0o777) === file.mode && sameOwner(st, file.owner);
      const status: FileStatus = sameContent
        ? sameMeta
          ? 'unchanged'
          : 'update'
        : isPristine(current)
          ? 'update'
          : 'conflict';
      return { ...file, status, current, modeOnly: sameContent && status === 'update' };
    }),
  );
}

/**
 * Render's own files in `dir` (matching `pattern`) that are not among `files`: user data of a group since
 * removed from the config. Only files whose seal still matches count; anything else there is the user's.
 */
export async function findStale(dir: string, pattern: RegExp, files: RenderedFile[], role: string) {
  const wanted = new Set(files.map((f) => f.path));
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale: StaleFile[] = [];
  for (const name of names.filter((n) => pattern.test(n)).sort()) {
    const path = join(dir, name);
    if (wanted.has(path)) continue;
    const st = await lstat(path).catch(() => undefined);
    if (!st?.isFile()) continue;
    const text = await readFile(path, 'utf8').catch(() => '');
    if (isPristine(text)) stale.push({ path, role });
  }
  return stale;
}

/** Whether each folder exists with that mode and owner. */
export async function planDirs(dirs: Omit<PlannedDir, 'status'>[]): Promise<PlannedDir[]> {
  return Promise.all(
    dirs.map(async (d) => {
      const st = await stat(d.path).catch(() => undefined);
      const status = !st ? 'create' : (st.mode & 0o777) === d.mode && sameOwner(st, d.owner) ? 'unchanged' : 'update';
      return { ...d, status } as PlannedDir;
    }),
  );
}

/** The folders `mkdir -p path` would create, outermost first. */
async function missingDirs(path: string): Promise<string[]> {
  const missing: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    const exists = await lstat(dir).then(
      () => true,
      () => false,
    );
    if (exists || dirname(dir) === dir) break;
    missing.unshift(dir);
  }
  return missing;
}

export interface WritePlan {
  files: PlannedFile[];
  /** Stale files to remove (render --prune). */
  remove?: StaleFile[];
  dirs?: PlannedDir[];
}

/**
 * Writes every changed file atomically, and all of them or none: each is first written in full to a temp file
 * beside its target; only when every temp file is in place are they renamed over the targets. A failure while
 * staging removes the temp files and the folders it created, and leaves every target as it was. Errors name
 * the target, never the temp file.
 */
export async function applyWrites(plan: WritePlan): Promise<void> {
  const staged: { temp: string; path: string }[] = [];
  const created: string[] = [];
  const step = async (path: string, action: () => Promise<unknown>) => {
    try {
      await action();
    } catch (err) {
      throw new TargetError(path, err as NodeJS.ErrnoException);
    }
  };
  try {
    for (const dir of plan.dirs ?? []) {
      if (dir.status === 'unchanged') continue;
      created.push(...(await missingDirs(dir.path)));
      await step(dir.path, () => mkdir(dir.path, { recursive: true, mode: dir.mode }));
      await step(dir.path, () => chmod(dir.path, dir.mode));
      await step(dir.path, () => chown(dir.path, dir.owner.uid, dir.owner.gid));
    }
    for (const file of plan.files) {
      if (file.status === 'unchanged') continue;
      created.push(...(await missingDirs(dirname(file.path))));
      await step(file.path, () => mkdir(dirname(file.path), { recursive: true }));
      const temp = `${file.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      await step(file.path, () => writeFile(temp, file.content, { mode: file.mode, flag: 'wx' }));
      staged.push({ temp, path: file.path });
      await step(file.path, () => chmod(temp, file.mode)); // the umask may have narrowed the mode given to open()
      const owner = file.owner;
      if (owner) await step(file.path, () => chown(temp, owner.uid, owner.gid));
    }
  } catch (err) {
    await Promise.all(staged.map(({ temp }) => rm(temp, { force: true })));
    // Innermost first: a failed render leaves no empty folders behind.
    for (const dir of [...new Set(created)].reverse()) await rmdir(dir).catch(() => undefined);
    throw err;
  }
  for (const { temp, path } of staged) await step(path, () => rename(temp, path));
  for (const file of plan.remove ?? []) await step(file.path, () => unlink(file.path));
}
