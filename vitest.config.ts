import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: a test's own assertions bound what matters; a machine shared with other work can be slow.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Processes, not threads: the in-process CLI harness changes the working directory (threads cannot).
    pool: 'forks',
    // Many tests wait on child processes (python3, the packed tarball's npm install) and local servers, so
    // three workers keep two cores busy; vitest's default on two cores is one. A worker runs its files in one
    // module graph (no re-import per file): the tests restore what they change (env, cwd, spies).
    maxWorkers: 3,
    isolate: false,
    globalSetup: ['test/global-setup.ts'],
  },
});
