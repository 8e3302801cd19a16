// Where init's AWS defaults come from: the environment and the shared config files, read the way the AWS
// CLI and SDK read them (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and credentials;
// "[profile NAME]" in config, "[NAME]" in credentials). Parsing is pure; `readAwsFiles` is the only I/O.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface AwsFiles {
  /** ~/.aws/config text, or '' when it cannot be read. */
  config: string;
  /** ~/.aws/credentials text, or '' when it cannot be read. */
  credentials: string;
}

type Env = Record<string, string | undefined>;

/** Sections of an INI file, each with its key = value pairs (comments and indented sub-keys are skipped). */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s[#;].*$/, '');
    if (/^\s*([#;]|$)/.test(line)) continue;
    const header = /^\s*\[\s*([^\]]+?)\s*\]\s*$/.exec(line);
    if (header) {
      current = sections.get(header[1]) ?? new Map();
      sections.set(header[1], current);
      continue;
    }
    const pair = /^(\S[^=]*?)\s*=\s*(.*?)\s*$/.exec(line);
    if (pair && current) current.set(pair[1].trim(), pair[2]);
  }
  return sections;
}

const configSection = (profile: string) => (profile === 'default' ? 'default' : `profile ${profile}`);

/** Every profile the two files name, default first when present. */
export function profileNames(files: AwsFiles): string[] {
  const names = new Set<string>();
  for (const section of parseIni(files.config).keys()) {
    if (section === 'default') names.add('default');
    else if (section.startsWith('profile ')) names.add(section.slice('profile '.length).trim());
  }
  for (const section of parseIni(files.credentials).keys()) names.add(section);
  return [...names].sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
}

/** The region the SDK would use: AWS_REGION, AWS_DEFAULT_REGION, then the profile's `region` in config. */
export function defaultRegion(env: Env, files: AwsFiles, profile?: string): string | undefined {
  const fromEnv = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  const name = profile || env.AWS_PROFILE || 'default';
  return parseIni(files.config).get(configSection(name))?.get('region') || undefined;
}

export async function readAwsFiles(env: Env = process.env, home: string = homedir()): Promise<AwsFiles> {
  const read = (path: string) => readFile(path, 'utf8').catch(() => '');
  const [config, credentials] = await Promise.all([
    read(env.AWS_CONFIG_FILE || join(home, '.aws', 'config')),
    read(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials')),
  ]);
  return { config, credentials };
}
