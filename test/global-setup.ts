// Tests import src/ directly, and src/render/templates.ts imports the templates precompiled from templates/:
// regenerate them first, so a test never runs against a stale copy of an edited template.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, [new URL('../scripts/build-templates.mjs', import.meta.url).pathname], {
    stdio: 'inherit',
  });
}
