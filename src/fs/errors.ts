// File system errors in the user's words, about the path the user gave: never Node's "ENOTDIR: not a
// directory, lstat …" and never the name of a temp file the user has not heard of.

/** Why `path` cannot be read or written, as a sentence fragment ("it is a folder, not a file"). */
export function fsProblem(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or folder';
    case 'EISDIR':
      return 'it is a folder, not a file';
    case 'ENOTDIR':
      return `a part of ${path} is a file where a folder should be`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is used up';
    case 'ELOOP':
      return 'too many symbolic links (a link that points to itself?)';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    case 'ENOTFILE':
      return 'it exists and is not a regular file';
    default:
      return code ? `the system refused (${code})` : String((err as Error).message ?? err);
  }
}
