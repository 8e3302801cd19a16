// Writes a file all at once or not at all: a temp file next to it, then a rename (overwrite) or a hard link
// (no overwrite: link fails if the name exists, so a file that appeared meanwhile is never clobbered).
// Used for salt-autoscale.yaml by init (new file) and provision (topic_arn written back). Replacing a symlink
// writes through to the file it points to.
import { randomBytes } from 'node:crypto';
import { chmod, link, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EXIT, UserError } from '../errors.js';
import { fsProblem } from './errors.js';

export class FileExistsError extends UserError {
  constructor(readonly file: string) {
    super(
      `${file} already exists; nothing was changed. Pass --force to overwrite it, or --config OTHER.yaml to write another file.`,
      EXIT.refused,
    );
    this.name = 'FileExistsError';
  }
}

/**
 * Where a replacement must land: the file a symlink points to (so the link stays a link, e.g. a config kept in
 * a dotfiles repository), or `file` itself.
 */
async function replacementTarget(file: string): Promise<string> {
  try {
    return await realpath(file);
  } catch {
    return file; // not there yet (or a dangling link, which rename then replaces)
  }
}

export async function writeFileAtomic(
  file: string,
  text: string,
  options: { mode: number; overwrite: boolean },
): Promise<void> {
  // The temp file goes beside the real target: a rename is atomic only within one folder's file system.
  const target = options.overwrite ? await replacementTarget(file) : file;
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text, { mode: options.mode, flag: 'wx' });
  } catch (err) {
    throw new UserError(`cannot write ${file}: ${describeFsError(err, dirname(target))}`);
  }
  try {
    await chmod(tmp, options.mode); // the umask must not loosen or tighten what we chose
    if (options.overwrite) {
      await rename(tmp, target);
      return;
    }
    try {
      await link(tmp, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new FileExistsError(file);
      // A file system without hard links: fall back to rename (a race here is the user's own doing).
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
      await rename(tmp, file);
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    // Never the temp file's name: the user knows only `file`.
    throw new UserError(`cannot write ${file}: ${fsProblem(err, file)}`, EXIT.refused);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

function describeFsError(err: unknown, dir: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `the folder ${dir} does not exist`;
  if (code === 'EACCES' || code === 'EPERM') return `no permission to write in ${dir}`;
  return fsProblem(err, dir);
}

/** The mode an existing file has (so a rewrite keeps a 0600 config 0600), or `fallback` for a new one. */
export async function modeOf(file: string, fallback = 0o644): Promise<number> {
  try {
    return (await stat(file)).mode & 0o7777;
  } catch {
    return fallback;
  }
}
