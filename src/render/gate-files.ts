// The gate package (reactor/salt_autoscale_gate/ in this npm package) as rendered files beside the reactor:
// its modules, then MANIFEST (sha256 of each module as written, sealed), which the reactor's entry checks
// before loading. Listed modules first and MANIFEST last, so render's writer renames MANIFEST in after every
// module: a master never sees a MANIFEST naming a module that is not there yet.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seal } from './seal.js';

export const GATE_PACKAGE = 'salt_autoscale_gate';

/** The folder holding the gate package in this npm package (found upwards from this module: src/ or dist/). */
export function gateSourceDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'reactor', GATE_PACKAGE)))
      return join(dir, 'reactor');
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find reactor/${GATE_PACKAGE} above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Salt engines rendered to <reactor_dir>/engines/ (reactor/engines/ in this npm package). */
export const ENGINES = ['ec2_autoscale_sqs.py'];

interface GateFile {
  path: string;
  role: string;
  mode: number;
  content: string;
}

/** Every file of the package, relative and sorted: its modules and package data (e.g. aws_iid_certs/). */
function packageFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.name !== '__pycache__' && !e.name.startsWith('.'))
    .flatMap((e) => (e.isDirectory() ? packageFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .filter((name) => !name.endsWith('.pyc'))
    .sort();
}

/**
 * The package's files for `reactorDir` (unsealed: render seals them; MANIFEST's digests are of the sealed
 * text). Modules are the top-level *.py files; the rest is data, checked against MANIFEST too. Data files
 * are sealed like every rendered file, so they must tolerate a trailing `# ...` line (PEM and Markdown do).
 */
export function gateFiles(reactorDir: string): GateFile[] {
  const src = join(gateSourceDir(), GATE_PACKAGE);
  const out = join(reactorDir, GATE_PACKAGE);
  // The package's files, then the SQS engine (<reactor_dir>/engines/, the drop-in's engines_dirs), which
  // MANIFEST lists by its path from the package folder: boot.py checks it like package data.
  const names = [...packageFiles(src), ...ENGINES.map((e) => `../engines/${e}`)];
  const files = names.map((name) => ({
    path: join(out, name),
    role: name.startsWith('../engines/') ? 'salt engine' : 'reactor gate',
    mode: 0o644,
    content: readFileSync(join(src, name), 'utf8'),
  }));
  const digest = (text: string) => createHash('sha256').update(seal(text), 'utf8').digest('hex');
  const manifest = [
    '# The gate package as `salt-autoscale render` wrote it: sha256 and file name. ec2-autoscale.sls loads the',
    '# package only when every file matches.',
    ...files.map((f, i) => `${digest(f.content)}  ${names[i]}`),
    '',
  ].join('\n');
  return [...files, { path: join(out, 'MANIFEST'), role: 'reactor gate manifest', mode: 0o644, content: manifest }];
}
