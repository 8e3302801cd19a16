// render as a preview and as a real install, in-process through the I/O layer: --diff writes nothing, stale
// user data is found and pruned, EC2's user-data limit, every key the drop-in overrides in the main master
// file, the master's `user` owning what it must read and write, and failures that leave nothing behind.
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { renderFiles } from '../src/render/files.js';
import { gateFiles } from '../src/render/gate-files.js';
import { installPlan, mergeMasterOptions } from '../src/render/master-user.js';
import { EXAMPLE, runInProcess } from './helpers/run-cli.js';
import { tempDir } from './helpers/tmp.js';

const example = readFileSync(EXAMPLE, 'utf8');

function configIn(dir: string, edit: (t: string) => string = (t) => t): string {
  const file = join(dir, 'salt-autoscale.yaml');
  writeFileSync(file, edit(example));
  return file;
}

const render = (...args: string[]) => runInProcess(['render', ...args]);

describe('render --diff', () => {
  it('is a preview: it writes nothing, and the seal line is not shown as an unchanged line', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const preview = await render('-c', EXAMPLE, '-o', out, '--diff');
    expect(preview.code).toBe(0);
    expect(existsSync(out)).toBe(false);
    expect(preview.stdout).toContain('+++ b/');
    expect(preview.stdout).toContain(`dry run, nothing written: ${4 + gateFiles('/reactor').length} to create`);

    expect((await render('-c', EXAMPLE, '-o', out)).code).toBe(0);
    const config = configIn(dir, (t) => t.replace('  port: 8000', '  port: 8443'));
    const before = readFileSync(join(out, 'master.d/ec2-autoscale.conf'), 'utf8');
    const diff = await render('-c', config, '-o', out, '--diff');
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/^-\s+port: 8000\n\+\s+port: 8443$/m);
    expect(diff.stdout).not.toContain('salt-autoscale rendered this file');
    expect(readFileSync(join(out, 'master.d/ec2-autoscale.conf'), 'utf8')).toBe(before);
    // A file edited by hand is shown, not refused: nothing is written either way.
    writeFileSync(join(out, 'master.d/ec2-autoscale.conf'), `${before}# mine\n`);
    const edited = await render('-c', config, '-o', out, '--diff');
    expect(edited.code).toBe(0);
    expect(edited.stdout).toMatch(/^-# mine$/m);
  });
});

describe('files the config no longer produces', () => {
  it('reports its own stale user data, removes it with --prune, and never touches a file it did not write', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const twoGroups = configIn(dir, (t) =>
      t.replace('alerts:\n', '  batch-asg:\n    bootstrap: preauth\n    salt_version: "3006.25"\n\nalerts:\n'),
    );
    expect((await render('-c', twoGroups, '-o', out)).code).toBe(0);
    expect(existsSync(join(out, 'userdata/batch-asg.sh'))).toBe(true);
    writeFileSync(join(out, 'userdata/mine.sh'), '#!/bin/sh\necho my own script\n');

    const stale = await render('-c', EXAMPLE, '-o', out);
    expect(stale.code).toBe(0);
    expect(stale.stdout).toMatch(
      /stale\s+\S*userdata\/batch-asg\.sh\s+\(user data of a group no longer in the config; --prune removes it\)/,
    );
    expect(stale.stdout).toContain('1 stale (no longer in the config; --prune removes it)');
    expect(stale.stdout).not.toContain('mine.sh');
    expect(existsSync(join(out, 'userdata/batch-asg.sh'))).toBe(true);

    const dry = await render('-c', EXAMPLE, '-o', out, '--prune', '--dry-run');
    expect(dry.stdout).toMatch(/would remove\s+\S*userdata\/batch-asg\.sh/);
    expect(existsSync(join(out, 'userdata/batch-asg.sh'))).toBe(true);

    const pruned = await render('-c', EXAMPLE, '-o', out, '--prune');
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/removed\s+\S*userdata\/batch-asg\.sh/);
    expect(readdirSync(join(out, 'userdata')).sort()).toEqual(['mine.sh', 'worker-asg.sh']);
  });
});

describe("EC2's user-data limit", () => {
  it('refuses user data over 16 KB before writing anything, and says the size', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const big = configIn(dir, (t) =>
      t.replace('        role: worker\n', `        role: worker\n        notes: "${'x'.repeat(15000)}"\n`),
    );
    const res = await render('-c', big, '-o', out);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /userdata\/worker-asg\.sh \(user data for worker-asg\) would be 1\d{4} bytes; EC2 accepts at most 16384 bytes \(16 KB\) of user data\.\nNothing was written\./,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('installing into the Salt config dir', () => {
  function install(dir: string, master: string, edit: (t: string) => string = (t) => t) {
    const etc = join(dir, 'etc/salt');
    mkdirSync(join(etc, 'master.d'), { recursive: true });
    writeFileSync(join(etc, 'master'), master);
    const config = configIn(dir, (t) =>
      edit(
        t
          .replace('config_dir: /etc/salt', `config_dir: ${etc}`)
          .replace('reactor_dir: /srv/reactor', `reactor_dir: ${dir}/srv/reactor`),
      ),
    );
    return { etc, config };
  }
  const withSecrets = (t: string) =>
    t
      .replace(
        'credentials: instance-role',
        'credentials: keys\n  id: AKIAIOSFODNN7EXAMPLE\n  key: "wJalrXUtnFEMI/K7MDENG"',
      )
      .replace(
        / {2}# email:[\s\S]*?password_file: \/etc\/salt\/smtp-password\n/,
        '  email:\n    smtp_host: smtp.example.com\n    from: a@example.com\n    to: b@example.com\n    username: u\n    password: "pw"\n',
      );

  it('warns for every key of the main master file that the drop-in replaces', async () => {
    const dir = tempDir();
    const { etc, config } = install(
      dir,
      'autosign_timeout: 5\nsmtp.host: mail.internal\nsmtp.password: old\nrest_cherrypy: {port: 1}\ninterface: 0.0.0.0\n',
      withSecrets,
    );
    // The admin's own master.d files: reactor lists join (no warning), other keys merge by file name.
    writeFileSync(
      join(etc, 'master.d/zz-mine.conf'),
      'autosign_timeout: 9\nreactor: [{salt/auth: [/srv/reactor/a.sls]}]\n',
    );
    writeFileSync(join(etc, 'master.d/00-early.conf'), 'rest_cherrypy: {disable_ssl: true}\n');
    const res = await render('-c', config, '-o', etc);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(
      `${etc}/master.d/zz-mine.conf also sets \`autosign_timeout:\`; Salt merges master.d files in name order (mappings key by key, the later file winning), so it overrides the drop-in's autosign_timeout.`,
    );
    expect(res.stderr).toContain(`${etc}/master.d/00-early.conf also sets \`rest_cherrypy:\`;`);
    expect(res.stderr).toContain("so the drop-in's rest_cherrypy is merged over it");
    expect(res.stderr).not.toContain('also sets `reactor:`');
    const warned = [...res.stderr.matchAll(/sets `([^`]+):`; master\.d\/ec2-autoscale\.conf replaces it/g)].map(
      (m) => m[1],
    );
    expect(warned.sort()).toEqual(['autosign_timeout', 'rest_cherrypy', 'smtp.host', 'smtp.password']);
    expect(res.stderr).not.toContain('`interface:`');
    expect(res.stderr).toContain('set salt.autosign_timeout in salt-autoscale.yaml');
  });

  it("gives secret files and the reactor's folders to the master's user (Salt 3006+ packages: user: salt)", async () => {
    const dir = tempDir();
    // `user` from master.d wins over the main file, as Salt merges them; the reactor's folders follow
    // cachedir and pki_dir.
    const { etc, config } = install(dir, `user: root\ncachedir: ${dir}/cache\npki_dir: ${dir}/pki\n`, withSecrets);
    writeFileSync(join(etc, 'master.d/00-user.conf'), 'user: nobody\n');
    const res = await render('-c', config, '-o', etc);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const owner = (p: string) => {
      const st = statSync(p);
      return { uid: st.uid, mode: st.mode & 0o777 };
    };
    expect(owner(join(etc, 'cloud.providers.d/ec2.conf'))).toEqual({ uid: 65534, mode: 0o600 });
    expect(owner(join(etc, 'master.d/ec2-autoscale.conf'))).toEqual({ uid: 65534, mode: 0o600 });
    expect(owner(join(dir, 'cache/ec2-autoscale'))).toEqual({ uid: 65534, mode: 0o700 });
    expect(owner(join(dir, 'pki/minions_autosign'))).toEqual({ uid: 65534, mode: 0o700 });
    // Files without a secret stay root's and world-readable.
    expect(owner(join(dir, 'srv/reactor/ec2-autoscale.sls'))).toEqual({ uid: 0, mode: 0o644 });
    expect(res.stdout).toMatch(
      /created\s+\S*cache\/ec2-autoscale\/\s+\(the reactor's cache, owned by nobody, mode 0700\)/,
    );
    expect(res.stdout).toMatch(
      /created\s+\S*cloud\.providers\.d\/ec2\.conf\s+\(salt-cloud provider, owned by nobody\)/,
    );
    const again = await render('-c', config, '-o', etc);
    expect(again.stdout).toContain('all unchanged: nothing to do.');
    // A file handed back to root (by hand, or a copy) is handed over again; --diff says only the owner changes.
    chownSync(join(etc, 'cloud.providers.d/ec2.conf'), 0, 0);
    const diff = await render('-c', config, '-o', etc, '--diff');
    expect(diff.stdout).toContain('cloud.providers.d/ec2.conf: only its mode (0600) or owner (nobody) changes');
    expect((await render('-c', config, '-o', etc)).stdout).toMatch(/updated\s+\S*cloud\.providers\.d\/ec2\.conf/);
    expect(statSync(join(etc, 'cloud.providers.d/ec2.conf')).uid).toBe(65534);
  });

  it('says so when the master runs as a user this machine does not know', async () => {
    const dir = tempDir();
    const { etc, config } = install(dir, 'user: salt-nonexistent-user\n', withSecrets);
    const res = await render('-c', config, '-o', etc);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('the master runs as user salt-nonexistent-user');
    expect(statSync(join(etc, 'cloud.providers.d/ec2.conf')).uid).toBe(0);
  });

  it("decides ownership from the master's user alone: root changes nothing, salt gets the secrets and folders", () => {
    const { config } = parseConfigText(withSecrets(example), 'salt-autoscale.yaml');
    const files = renderFiles(config, { outDir: '/etc/salt', configFile: 'salt-autoscale.yaml' });
    const salt = { user: 'salt', uid: 990, gid: 990 };
    expect(installPlan(config, files, {}, undefined)).toEqual({ files, dirs: [], warnings: [] });
    expect(installPlan(config, files, { user: 'root' }, { user: 'root', uid: 0, gid: 0 }).dirs).toEqual([]);
    expect(installPlan(config, files, { user: 'salt' }, undefined).warnings[0]).toMatch(
      /which this machine does not know/,
    );
    const plan = installPlan(config, files, { user: 'salt', cachedir: '/var/cache/salt/master' }, salt);
    expect(plan.files.filter((f) => f.owner).map((f) => f.role)).toEqual(['master drop-in', 'salt-cloud provider']);
    expect(plan.dirs).toEqual([
      { path: '/var/cache/salt/master/ec2-autoscale', role: "the reactor's cache", mode: 0o700, owner: salt },
      { path: '/etc/salt/pki/master/minions_autosign', role: 'preauth autosign stubs', mode: 0o700, owner: salt },
    ]);
  });

  it('reads `user` as Salt merges the master files: master.d over the main file, sorted, key by key', () => {
    expect(mergeMasterOptions(['user: salt\ncachedir: /c\n', 'user: a\n', 'user: b\n'])).toEqual({
      user: 'b',
      cachedir: '/c',
      pki_dir: undefined,
    });
    expect(mergeMasterOptions(['#user: root\n', 'not: [valid'])).toEqual({
      user: undefined,
      cachedir: undefined,
      pki_dir: undefined,
    });
  });
});

describe('a failed render', () => {
  it('leaves no empty folders and no temp files, and names the path the user knows', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    mkdirSync(out);
    // The reactor's folder is a plain file: staging fails after master.d/ and cloud.providers.d/ were made.
    writeFileSync(join(out, 'reactor'), 'not a folder');
    const res = await render('-c', EXAMPLE, '-o', out);
    expect(res.code).toBe(3);
    // The first file under reactor/ is the gate package's (written before its entry, ec2-autoscale.sls).
    const first = gateFiles(join(out, 'reactor'))[0].path;
    expect(res.stderr).toBe(
      `salt-autoscale: cannot write ${first}: a part of ${first} is a file where a folder should be\n`,
    );
    expect(res.stderr).not.toMatch(/tmp-|ENOTDIR|lstat/);
    expect(readdirSync(out)).toEqual(['reactor']);
  });
});
