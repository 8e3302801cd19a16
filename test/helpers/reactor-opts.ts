// The master opts the reactor sees: the real `render` output for a config (master.d/ec2-autoscale.conf),
// parsed as a master that loaded the drop-in would have it, plus the master's own cachedir and pki_dir.
// So every reactor test exercises config, render and reactor together.
import { parse } from 'yaml';
import type { Config } from '../../src/config/types.js';
import { renderFiles } from '../../src/render/files.js';

function rendered(config: Config) {
  return renderFiles(config, { outDir: '/rendered', configFile: 'salt-autoscale.yaml' });
}

/** The master.d drop-in exactly as `render` writes it. */
export function masterDropInYaml(config: Config): string {
  return rendered(config).find((f) => f.path === '/rendered/master.d/ec2-autoscale.conf')!.content;
}

/** The reactor entry and its gate package exactly as `render` writes them: path relative to the reactor dir → content. */
export function reactorDirFiles(config: Config): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of rendered(config)) {
    if (f.path.startsWith('/rendered/reactor/')) out[f.path.slice('/rendered/reactor/'.length)] = f.content;
  }
  return out;
}

export function reactorOpts(config: Config, master: { cachedir: string; pki_dir: string }): Record<string, unknown> {
  return {
    cachedir: master.cachedir,
    pki_dir: master.pki_dir,
    ...(parse(masterDropInYaml(config), { version: '1.1' }) as Record<string, unknown>),
  };
}
