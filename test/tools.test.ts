// The test prerequisites: a missing tool is one line saying what to install.
import { describe, expect, it } from 'vitest';
import { requireTool, toolProblem } from './helpers/tools.js';

describe('what the tests need besides Node', () => {
  it('is on this machine (README: Set up on a fresh machine)', () => {
    expect(() => requireTool('python3', 'pyyaml', 'cryptography', 'shellcheck')).not.toThrow();
  });

  it('a missing tool is reported in one line that says what to install', () => {
    const noPath = { PATH: '/nonexistent' };
    expect(toolProblem('shellcheck', noPath)).toBe(
      'missing shellcheck: install shellcheck (Debian: apt-get install shellcheck)',
    );
    const problem = toolProblem('pyyaml', noPath) ?? '';
    expect(problem).toMatch(/^missing pyyaml: install PyYAML for python3 \(pip install pyyaml, .*\)$/);
    expect(problem).not.toContain('\n');
  });
});
