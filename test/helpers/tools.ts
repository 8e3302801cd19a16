// What the tests need besides Node (README, "Set up on a fresh machine"). A test that needs a tool calls
// `requireTool` first: a missing one fails that test with one line saying what to install, instead of a
// traceback from deep inside, or a check silently skipped.
import { spawnSync } from 'node:child_process';

const TOOLS = {
  python3: { probe: ['python3', '-c', 'import sys'], install: 'python3 (Debian: apt-get install python3)' },
  pyyaml: {
    probe: ['python3', '-c', 'import yaml'],
    install: 'PyYAML for python3 (pip install pyyaml, or Debian: apt-get install python3-yaml)',
  },
  cryptography: {
    probe: ['python3', '-c', 'import cryptography'],
    install: 'cryptography for python3 (pip install cryptography, or Debian: apt-get install python3-cryptography)',
  },
  shellcheck: { probe: ['shellcheck', '--version'], install: 'shellcheck (Debian: apt-get install shellcheck)' },
} as const;

export type Tool = keyof typeof TOOLS;

/** The one line to show when `tool` is missing (in `env`), or undefined when it is there. */
export function toolProblem(tool: Tool, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const [cmd, ...args] = TOOLS[tool].probe;
  const res = spawnSync(cmd, args, { env, stdio: 'ignore' });
  return res.status === 0 ? undefined : `missing ${tool}: install ${TOOLS[tool].install}`;
}

const checked = new Map<Tool, string | undefined>();

/** Throws the one-line problem when `tool` is missing; each tool is probed once per test process. */
export function requireTool(...tools: Tool[]): void {
  for (const tool of tools) {
    if (!checked.has(tool)) checked.set(tool, toolProblem(tool));
    const problem = checked.get(tool);
    if (problem) throw new Error(problem);
  }
}
