// Pure: the config (and where to write) → the list of files with their contents and modes.
import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { attestEndpoint, type Config, primaryMaster, webhookEndpoint } from '../config/types.js';
import { VERSION } from '../version.js';
import { type AttestedInputs, EXTRA_CERTS_DIR, NO_ATTESTED_INPUTS } from './attested.js';
import { gateFiles } from './gate-files.js';
import {
  cloudProvider,
  engineSettings,
  REACTOR_FILE,
  reactorMapping,
  reactorSettings,
  restCherrypy,
  smtpSettings,
  snsEventTag,
  usesSaltApi,
} from './salt-data.js';
import { seal } from './seal.js';
import { toSaltYaml } from './serialize.js';
import { renderTemplate } from './templates.js';
import { ATTEST_FIRST_DELAY_SECONDS, autosignSettings, BOOTSTRAP_URL, userDataFileNames } from './userdata.js';

/** Who owns a file or folder: the user the master runs as (Salt's `user`). */
export interface Owner {
  user: string;
  uid: number;
  gid: number;
}

export interface RenderedFile {
  /** Absolute path to write. */
  path: string;
  content: string;
  /** File mode: 0o600 when the file holds a secret. */
  mode: number;
  /** What the file is, for the summary. */
  role: string;
  /** Set when the file must belong to the master's user (a secret file it reads, under Salt 3006+ packages). */
  owner?: Owner;
}

/** Secret files (0600) handed to the master's user, who must read them; the others stay world-readable. */
export function withOwner(files: RenderedFile[], owner: Owner): RenderedFile[] {
  return files.map((f) => (f.mode === 0o600 ? { ...f, owner } : f));
}

export interface RenderTarget {
  /** --out */
  outDir: string;
  /** --reactor-out, when given */
  reactorDir?: string;
  /** The config file's path, named in the files' headers. */
  configFile: string;
  /** Which master's drop-in (config masters); default the primary. */
  master?: string;
}

/** Where the reactor goes: the configured reactor_dir when rendering into the Salt config dir itself. */
export function reactorOutputDir(config: Config, target: RenderTarget): string {
  if (target.reactorDir) return resolve(target.reactorDir);
  const out = resolve(target.outDir);
  return out === resolve(config.salt.config_dir) ? resolve(config.salt.reactor_dir) : join(out, 'reactor');
}

/** The master drop-in, relative to the Salt config dir. */
export const DROP_IN = 'master.d/ec2-autoscale.conf';

/**
 * The top-level keys the master drop-in sets: each replaces the same key in /etc/salt/master (salt/config
 * master_config: the main file's options are overridden by each include's with a plain dict update).
 */
export function dropInKeys(config: Config, master = primaryMaster(config)): string[] {
  const engines = engineSettings(config, master);
  return [
    ...(usesSaltApi(config) ? ['rest_cherrypy'] : []),
    ...(engines ? Object.keys(engines) : []),
    ...(reactorMapping(config).length ? ['reactor'] : []),
    'ec2.autoscale',
    ...Object.keys(autosignSettings(config) ?? {}),
    ...Object.keys(smtpSettings(config)),
  ];
}

/** Every file render writes, each sealed (./seal.ts). `attested`: what ./attested.ts read for attested groups. */
export function renderFiles(
  config: Config,
  target: RenderTarget,
  attested: AttestedInputs = NO_ATTESTED_INPUTS,
): RenderedFile[] {
  return unsealedFiles(config, target, attested).map((f) => ({ ...f, content: seal(f.content) }));
}

function unsealedFiles(config: Config, target: RenderTarget, attested: AttestedInputs): RenderedFile[] {
  const out = resolve(target.outDir);
  const common = { version: VERSION, configName: basename(target.configFile) };
  const smtp = smtpSettings(config);
  const keys = config.cloud_provider.credentials === 'keys';
  const master = target.master ?? primaryMaster(config);
  const sqs = config.delivery.mode === 'sqs';
  const files: RenderedFile[] = [
    {
      path: join(out, DROP_IN),
      role: 'master drop-in',
      mode: 'smtp.password' in smtp ? 0o600 : 0o644,
      content: renderTemplate('master.d/ec2-autoscale.conf.hbs', {
        ...common,
        sqsDelivery: sqs,
        engineDelivery: config.delivery.mode === 'webhook-engine',
        master,
        endpoint: sqs ? null : webhookEndpoint(config, master),
        eventTag: snsEventTag(config),
        restCherrypy: usesSaltApi(config) ? restCherrypy(config) : null,
        engines: engineSettings(config, master) ?? null,
        // Delivery sqs without hooks or attested groups maps nothing: no reactor key (it would replace the master's).
        reactor: reactorMapping(config).length ? reactorMapping(config) : null,
        settings: reactorSettings(config, master),
        smtp: Object.keys(smtp).length > 0 ? smtp : null,
        autosign: autosignSettings(config),
      }),
    },
    {
      path: join(out, 'cloud.providers.d', 'ec2.conf'),
      role: 'salt-cloud provider',
      mode: keys ? 0o600 : 0o644,
      content: renderTemplate('cloud.providers.d/ec2.conf.hbs', {
        ...common,
        instanceRole: !keys,
        provider: cloudProvider(config),
      }),
    },
    // The gate package before its entry, so the entry never runs against an older package.
    ...gateFiles(reactorOutputDir(config, target)),
    {
      path: join(reactorOutputDir(config, target), REACTOR_FILE),
      role: 'reactor',
      mode: 0o644,
      content: reactorEntry(common.version),
    },
  ];
  // Extra instance identity certificates for attested groups, beside the reactor (ec2.autoscale.attest names them).
  for (const cert of attested.certificates) {
    files.push({
      path: join(reactorOutputDir(config, target), EXTRA_CERTS_DIR, cert.file),
      role: `identity certificate for ${cert.region}`,
      mode: 0o644,
      content: cert.pem,
    });
  }
  for (const [group, fileName] of userDataFileNames(config)) {
    const g = config.groups[group];
    const values = {
      ...common,
      group,
      master: config.salt.master_address,
      saltVersion: g.salt_version,
      bootstrapUrl: BOOTSTRAP_URL,
      minionConf: toSaltYaml({ master: config.salt.master_address, ...g.minion }),
    };
    files.push({
      path: join(out, 'userdata', fileName),
      role: `user data for ${group}`,
      mode: 0o644,
      content:
        g.bootstrap === 'attested'
          ? renderTemplate('userdata-attested.sh.hbs', {
              ...values,
              attestUrl: attestEndpoint(config, master),
              attestCaPem: attested.tlsCaPem,
              masterFinger: attested.masterFinger,
              // The master refuses a document older than its window: trying longer would be in vain.
              attestDeadlineSeconds: config.attested.window_seconds,
              attestFirstDelaySeconds: ATTEST_FIRST_DELAY_SECONDS,
            })
          : renderTemplate('userdata.sh.hbs', values),
    });
  }
  return files;
}

/** ec2-autoscale.sls. It marks the loaded gate package with a key that digests the entry itself, so a
 * re-rendered entry that differs runs its BOOT once while an unchanged one finds the package already marked. */
export function reactorEntry(version: string): string {
  const draft = renderTemplate('ec2-autoscale.sls.hbs', { version, entryKey: 'salt_autoscale_entry' });
  const key = `salt_autoscale_entry_${createHash('sha256').update(draft, 'utf8').digest('hex').slice(0, 16)}`;
  return renderTemplate('ec2-autoscale.sls.hbs', { version, entryKey: key });
}
