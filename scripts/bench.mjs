#!/usr/bin/env node
// npm run bench: start-up figures of the CLI, then every other bench script in this folder.
// Prints medians over several runs; targets are stated beside each figure (not asserted: a busy machine
// would make a timed test flaky).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/salt-autoscale.js');
const example = join(root, 'examples/salt-autoscale.yaml');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

function timeOnce(args) {
  const start = process.hrtime.bigint();
  const res = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.status !== 0) throw new Error(`${args.join(' ')} failed: ${res.stderr}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const scratch = mkdtempSync(join(tmpdir(), 'salt-autoscale-bench-'));
const bare = [];
const help = [];
const render = [];
try {
  // Interleaved so that a burst of load on the machine hits every series alike.
  for (let i = 0; i < RUNS; i++) {
    bare.push(timeOnce(['-e', '0']));
    help.push(timeOnce([bin, '--help']));
    render.push(timeOnce([bin, 'render', '--config', example, '--out', join(scratch, `out-${i}`)]));
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const b = median(bare);
console.log(`start-up (median of ${RUNS} runs)`);
console.log(`  node -e 0                     ${b.toFixed(1)} ms`);
console.log(
  `  salt-autoscale --help         ${median(help).toFixed(1)} ms  (${(median(help) / b).toFixed(2)}x bare node)`,
);
console.log(
  `  salt-autoscale render example ${median(render).toFixed(1)} ms  (${(median(render) / b).toFixed(2)}x bare node; target <= 2.5x)`,
);

for (const script of readdirSync(join(root, 'scripts'))
  .filter((f) => /^bench-.+\.m?js$/.test(f))
  .sort()) {
  console.log(`\n${script}`);
  // tsx lets the bench scripts import the TypeScript sources (the fakes, the core functions) directly.
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', script)], {
    stdio: 'inherit',
    cwd: root,
  });
  if (res.status !== 0) process.exitCode = 1;
}
