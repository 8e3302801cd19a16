// The filesystem side of render: compare each file with what is on disk, then write them all or none.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RenderedFile } from './files.js';
import { isPristine } from './seal.js';

/** update: replaces render's own earlier output; conflict: the file on disk was edited by hand (or is not ours). */
export type FileStatus = 'create' | 'update' | 'conflict' | 'unchanged';

export interface PlannedFile extends RenderedFile {
  status: FileStatus;
  /** What is on disk now ('' when absent). */
  current: string;
  /** Only the mode differs. */
  modeOnly: boolean;
}

export async function planWrites(files: RenderedFile[]): Promise<PlannedFile[]> {
  return Promise.all(
    files.map(async (file) => {
      let current: string;
      let mode: number;
      try {
        const st = await lstat(file.path);
        if (!st.isFile())
          throw Object.assign(new Error('it exists and is not a regular file'), { code: 'ENOTFILE', path: file.path });
        current = await readFile(file.path, 'utf8');
        mode = st.mode & 0o777;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT')
          return { ...file, status: 'create' as const, current: '', modeOnly: false };
        throw err;
      }
      const sameContent = current === file.content;
      const status: FileStatus = sameContent
        ? mode === file.mode
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
 * Writes every changed file atomically, and all of them or none: each is first written in full to a temp file
 * beside its target; only when every temp file is in place are they renamed over the targets. A failure while
 * staging removes the temp files and leaves every target as it was.
 */
export async function applyWrites(files: PlannedFile[]): Promise<void> {
  const staged: { temp: string; path: string }[] = [];
  try {
    for (const file of files) {
      if (file.status === 'unchanged') continue;
      await mkdir(dirname(file.path), { recursive: true });
      const temp = `${file.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      staged.push({ temp, path: file.path });
      await writeFile(temp, file.content, { mode: file.mode, flag: 'wx' });
      await chmod(temp, file.mode); // the umask may have narrowed the mode given to open()
    }
  } catch (err) {
    await Promise.all(staged.map(({ temp }) => rm(temp, { force: true })));
    throw err;
  }
  for (const { temp, path } of staged) await rename(temp, path);
}
