// `salt-autoscale init`: asks (or takes from flags and --answers) what salt-autoscale.yaml needs, writes the
// commented file atomically, and says what to run next. The logic lives in src/init/; this file is the I/O.
import { existsSync, lstatSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseConfigText, yamlText } from '../config/load.js';
import { webhookEndpoint } from '../config/types.js';
import { UserError } from '../errors.js';
import { FileExistsError, writeFileAtomic } from '../fs/atomic-write.js';
import { fsProblem } from '../fs/errors.js';
import { holdsSecret, type InitAnswers, type PresetAnswers } from '../init/answers.js';
import { parseAnswersText } from '../init/answers-file.js';
import { defaultRegion, profileNames, readAwsFiles } from '../init/aws-environment.js';
import { completeAnswers } from '../init/complete.js';
import { listGroupNames } from '../init/discover.js';
import { flagFor, flagsToRaw } from '../init/flags.js';
import { interview } from '../init/interview.js';
import { nextSteps } from '../init/next-steps.js';
import { mergePresets, parsePreset } from '../init/preset.js';
import { detectMasterSaltVersion } from '../init/salt-version.js';
import { configYaml } from '../init/yaml.js';
import { type Io, type Outcome, outcome, type View } from '../io.js';

export interface InitOptions extends Record<string, unknown> {
  config: string;
  yes?: boolean;
  answers?: string;
  force?: boolean;
  endpointUrl?: string;
}

/** What init wrote: the answers behind the file, and what to run next. */
interface Initialized {
  answers: InitAnswers;
  file: string;
  endpoint: string;
  secret: boolean;
}

const initView: View<Initialized> = {
  text: (r) => nextSteps(r.answers, { file: r.file, endpoint: r.endpoint, secret: r.secret }),
};

export async function run(io: Io, options: InitOptions): Promise<Outcome> {
  const file = options.config;
  if (!options.force && exists(file)) throw new FileExistsError(file);
  // Found out now, not after the last question.
  if (!isDirectory(dirname(file)))
    throw new UserError(`cannot write ${file}: the folder ${dirname(file)} does not exist`);

  const preset = await presetAnswers(options);
  const [awsFiles, masterSaltVersion] = await Promise.all([readAwsFiles(), detectMasterSaltVersion()]);
  let answers: InitAnswers;
  if (options.yes) {
    const done = completeAnswers(preset, {
      region: defaultRegion(process.env, awsFiles, preset.profile),
      masterSaltVersion,
    });
    if (!done.answers) {
      throw new UserError(
        `init --yes needs these answers (missing, or not fitting together):\n${done.missing.map((m) => `  - ${m}`).join('\n')}\n` +
          'Give them as flags (see `salt-autoscale init --help`) or in an --answers file (see docs/init.md).',
      );
    }
    answers = done.answers;
  } else {
    if (!io.interactive) throw new UserError(noTerminalMessage());
    answers = await interview(await io.prompter(), {
      preset,
      profiles: profileNames(awsFiles),
      defaultProfile: process.env.AWS_PROFILE,
      regionFor: (profile) => defaultRegion(process.env, awsFiles, profile),
      listGroupNames,
      endpoint: options.endpointUrl,
      pathExists: existsSync,
      masterSaltVersion,
    });
  }

  const text = configYaml(answers);
  // The file must load as every other command will load it; if it does not, init has a bug.
  let endpoint: string;
  try {
    endpoint = webhookEndpoint(parseConfigText(text, file).config);
  } catch (err) {
    throw new Error(`init produced a config that does not validate:\n${(err as Error).message}`);
  }
  const secret = holdsSecret(answers);
  await writeFileAtomic(file, text, { mode: secret ? 0o600 : 0o644, overwrite: Boolean(options.force) });
  return outcome(initView, { answers, file, endpoint, secret });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Any directory entry counts, a dangling symlink too: it would be replaced as well. */
function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

async function presetAnswers(options: InitOptions): Promise<PresetAnswers> {
  const problems: string[] = [];
  let fromFile: PresetAnswers = {};
  if (options.answers) {
    const path = options.answers;
    const bytes = await readFile(path).catch((err) => {
      throw new UserError(`${path}: cannot read it: ${fsProblem(err, path)}`);
    });
    const data = parseAnswersText(yamlText(bytes, path, 'an answers file'), path);
    const parsed = parsePreset(data, (key) => (key ? `${path}: ${key}` : `${path}:`));
    fromFile = parsed.preset;
    problems.push(...parsed.problems);
  }
  const parsed = parsePreset(flagsToRaw(options), (key) => {
    const base = key.replace(/\[\d+\]/g, '');
    return flagFor(base) ?? `--${base}`;
  });
  problems.push(...parsed.problems);
  if (problems.length > 0) {
    throw new UserError(
      `${problems.length === 1 ? 'an answer is' : 'some answers are'} not right:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  return mergePresets(fromFile, parsed.preset);
}

function noTerminalMessage(): string {
  return [
    'init asks questions, but this is not a terminal (standard input or output is redirected).',
    'To write the file without questions, give the answers as flags:',
    '  salt-autoscale init --yes --region us-east-1 --group web-asg --public-url https://salt.example.com:8000',
    'or in a YAML/JSON file:  salt-autoscale init --yes --answers answers.yaml',
    '`salt-autoscale init --help` lists every answer flag; docs/init.md describes the answers file.',
  ].join('\n');
}
