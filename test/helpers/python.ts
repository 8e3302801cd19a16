// Runs a python3 snippet with JSON in and JSON out (used to read rendered files the way Salt does: PyYAML).
import { spawnSync } from 'node:child_process';
import { requireTool } from './tools.js';

export function python<T = unknown>(code: string, input: unknown): T {
  requireTool('python3');
  const res = spawnSync('python3', ['-c', code], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (res.status !== 0) throw new Error(`python3 failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout) as T;
}

/** Parses YAML texts with PyYAML's safe_load, as Salt's config loader does. */
export function pyYamlLoad(texts: string[]): unknown[] {
  requireTool('pyyaml');
  return python<unknown[]>(
    'import json, sys, yaml\nprint(json.dumps([yaml.safe_load(t) for t in json.load(sys.stdin)]))',
    texts,
  );
}
