#!/usr/bin/env node
// Build step: bundles src/ into dist/ with esbuild. One file per lazily loaded command (code splitting keeps
// `import('./commands/x.js')` lazy), with commander, yaml and the Handlebars runtime inlined: loading ~150
// small CommonJS files cost more start-up time than everything render does (and so handlebars, with its
// compiler and uglify-js, is needed at build time only: a devDependency). The AWS SDK and inquirer stay
// external, loaded from node_modules only by the commands that use them. Type checking is `tsc --noEmit`.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // No source maps: Node ignores them unless started with --enable-source-maps, and the bundle is readable.
  sourcemap: false,
  chunkNames: '[name]-[hash]',
  // Flat: every output file sits in dist/, so import.meta.url-relative paths (../package.json) hold for all.
  external: ['@aws-sdk/*', '@smithy/*', 'inquirer', '@inquirer/*'],
  // Bundled CommonJS (commander, yaml, handlebars) calls require() for Node built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
