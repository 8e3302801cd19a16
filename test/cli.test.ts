// The CLI as a whole: help, exit codes, lazy loading (start-up cost), and the packed npm tarball.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, EXAMPLE, ROOT, runCli, runTracingImports } from './helpers/run-cli.js';
import { tempDir } from './helpers/tmp.js';

async function importsOf(args: string[]): Promise<string[]> {
  const res = await runTracingImports(args);
  expect(res.code, res.stderr).toBe(0);
  return res.imports;
}

describe('salt-autoscale CLI', () => {
  it('--help lists every command and exits 0', async () => {
    const res = await runCli(['--help']);
    expect(res.code).toBe(0);
    for (const cmd of ['init', 'render', 'provision', 'status', 'teardown', 'verify', 'iam-policy']) {
      expect(res.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    }
  });

  it('an unknown command or option is a usage error (exit 2)', async () => {
    const res = await runCli(['rendr']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("unknown command 'rendr'");
    const opt = await runCli(['render', '--bogus']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain("unknown option '--bogus'");
  });

  it('output piped into a reader that stops early (| head) ends quietly with exit 0', async () => {
    const res = spawnSync(
      'sh',
      ['-c', `"${process.execPath}" "${BIN}" iam-policy --config "${EXAMPLE}" | head -n 1; exit "\${PIPESTATUS:-0}"`],
      { encoding: 'utf8' },
    );
    expect(res.stdout).toBe('# For whoever runs salt-autoscale provision / status / teardown (a user or CI role):\n');
    expect(res.stderr).toBe('');
  });

  it('--help and render load neither the AWS SDK nor inquirer', async () => {
    const out = join(tempDir(), 'out');
    for (const args of [['--help'], ['render', '-c', EXAMPLE, '-o', out]]) {
      const loaded = await importsOf(args);
      expect(loaded.some((u) => u.endsWith('/dist/main.js'))).toBe(true);
      expect(loaded.filter((u) => /@aws-sdk|@smithy|inquirer/.test(u))).toEqual([]);
    }
  });
});

describe('the npm package', () => {
  it('packs, installs into an empty folder, and `npx salt-autoscale render` works there', async () => {
    const dir = tempDir();
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
        cwd: ROOT,
        encoding: 'utf8',
      }),
    );
    const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain('templates/master.d/ec2-autoscale.conf.hbs');
    expect(files).toContain('dist/main.js');
    expect(files).toContain('examples/salt-autoscale.yaml');
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);

    const app = join(dir, 'app');
    mkdirSync(app);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed[0].filename)], {
      cwd: app,
      stdio: 'ignore',
    });
    const out = execFileSync(
      'npx',
      ['--no-install', 'salt-autoscale', 'render', '--config', EXAMPLE, '--out', 'rendered'],
      {
        cwd: app,
        encoding: 'utf8',
      },
    );
    expect(out).toContain('4 files: 4 created');
    expect(readdirSync(join(app, 'rendered')).sort()).toEqual(['cloud.providers.d', 'master.d', 'reactor', 'userdata']);
    expect(existsSync(join(app, 'rendered/reactor/ec2-autoscale.sls'))).toBe(true);
  }, 120_000);
});
