// The package version, read once from package.json next to dist/ (no JSON import: keeps Node 20 happy).
import { readFileSync } from 'node:fs';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
