import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { DEVICES, type Device } from '../model/backends.js';
import { parseHour } from '../stages/sources/hrrr-archive.js';
import type { StageLogger } from '../stages/stage.js';
import { checkEndpoint, NOAA_HRRR_BUCKET, NoHomeFolderError, openStore, type OpenStoreOptions } from '../store/open.js';
import type { ObjectStore } from '../store/object-store.js';
import { SettingError } from '../runtime/settings.js';
import { optionOrUsage, UsageError } from './usage.js';

/** The options every command that reads analyses takes, for parseArgs. */
export const sourceOptions = {
  source: { type: 'string', default: NOAA_HRRR_BUCKET },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  field: { type: 'string', multiple: true },
  match: { type: 'string' },
  product: { type: 'string', default: 'wrfsfcf00' },
  domain: { type: 'string', default: 'conus' },
  verbose: { type: 'boolean', short: 'v', default: false },
} as const;

export const sourceUsage = `  --source LOC    where the analyses are: s3://BUCKET, a folder laid out like the bucket, or
                  several, comma-separated, tried in that order (default ${NOAA_HRRR_BUCKET});
                  s3://BUCKET?endpoint=URL&region=R&signed=false: settings for it alone
  --endpoint URL  an S3-compatible server for s3:// sources (default AWS_ENDPOINT_URL, else AWS);
                  requests are signed when AWS credentials are configured (variables or
                  ~/.aws/credentials; HRRR_EMBED_S3_SIGNED=true for an instance role), else anonymous
  --region R      the bucket's region (default us-east-1)
  --field F       a field as NAME or NAME:LEVEL, e.g. REFC or "TMP:2 m above ground"; repeatable
                  (default REFC:entire atmosphere, the analysis)
  --match RE      instead of --field: a regular expression over the .idx lines
  --product P     the HRRR product (default wrfsfcf00, the surface analysis); --domain D (conus)
  -v, --verbose   log every request and retry on stderr`;

export interface SourceValues {
  source: string;
  endpoint?: string | undefined;
  region?: string | undefined;
  field?: string[] | undefined;
  match?: string | undefined;
  product: string;
  domain: string;
  verbose: boolean;
}

/** The .idx lines to take: --match as given, or one alternative per --field, REFC by default. */
/** How a command names its settings in messages: the flag, or where a setting file or variable gave it. */
export type SettingLabel = (key: 'endpoint' | 'field' | 'match' | 'source') => string;
const flagLabel: SettingLabel = (key) => `--${key}`;

export function fieldMatcher({ field, match }: SourceValues, usage: string, label: SettingLabel = flagLabel): RegExp {
  if (match !== undefined && field !== undefined) throw new UsageError(`${label('match')} and ${label('field')}: give one or the other`, usage);
  if (match !== undefined) {
    try {
      return new RegExp(match);
    } catch (error) {
      throw new UsageError(`${label('match')}: ${(error as Error).message}`, usage);
    }
  }
  const fields = field ?? ['REFC:entire atmosphere'];
  if (fields.length === 0) throw new UsageError(`${label('field')}: an empty list names no field`, usage);
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alternatives = fields.map((spec) => {
    const [name, ...level] = spec.split(':');
    if (!name || !/^[\w-]+$/.test(name)) throw new UsageError(`${label('field')}: ${JSON.stringify(spec)} is not NAME or NAME:LEVEL`, usage);
    return `${escape(name)}:${level.length > 0 ? escape(level.join(':')) : '[^:]*'}`;
  });
  return new RegExp(`^[\\d.]+:\\d+:d=\\d{10}:(?:${alternatives.join('|')}):`);
}

export function openSource(values: SourceValues, log: StageLogger, usage: string, label: SettingLabel = flagLabel): ObjectStore {
  // A wrong --endpoint is its own mistake, not the source's it was meant for.
  if (values.endpoint !== undefined) optionOrUsage(label('endpoint'), usage, () => checkEndpoint(values.endpoint!));
  const store = storeOption(label('source'), values.source, usage, { log, ...(values.endpoint !== undefined && { endpoint: values.endpoint }), ...(values.region !== undefined && { region: values.region }) });
  // Read as an empty mirror, a mistyped folder (or a file in its place) would make every hour a gap, recorded as done.
  const wrong = notFolders(values.source);
  if (wrong.length > 0) throw new UsageError(`${label('source')}: ${wrong.join('; ')}`, usage);
  return store;
}

/** What is wrong with each folder among a location's parts (a path, or file:///PATH) that is none; s3:// parts aside. */
function notFolders(location: string): string[] {
  const parts = location.split(',').map((part) => part.trim()).filter(Boolean);
  const folders = parts.filter((part) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(part) || /^file:/i.test(part));
  return folders.flatMap((part) => {
    const path = /^file:/i.test(part) ? fileURLToPath(part) : part;
    let stats;
    try {
      stats = statSync(path);
    } catch (error) {
      // ENOTDIR: the path goes through a file (a folder inside an archive file), so this folder is not there either.
      const code = (error as NodeJS.ErrnoException).code;
      return [code === 'ENOENT' || code === 'ENOTDIR' ? `the folder ${path} does not exist` : `the folder ${path} cannot be looked at: ${(error as Error).message}`];
    }
    return stats.isDirectory() ? [] : [`${path} is a file, not a folder`];
  });
}

/** The store a setting names; `label` names the setting (e.g. "--state") when the location is none. */
export function storeOption(label: string, location: string, usage: string, options: OpenStoreOptions): ObjectStore {
  try {
    return openStore(location, options);
  } catch (error) {
    // A wrong location is a wrong command line; no home folder is the process's environment (exit 1).
    const message = `${label}: ${(error as Error).message}`;
    throw error instanceof NoHomeFolderError ? new Error(message, { cause: error }) : new UsageError(message, usage);
  }
}

/** The hour a setting gives; `label` names the setting in the error (e.g. "--from"). */
export function hourOption(label: string, text: string, usage: string): Date {
  try {
    return parseHour(text);
  } catch (error) {
    throw new UsageError(`${label}: ${(error as Error).message}`, usage);
  }
}

/** The compute device a setting names; `label` names the setting in the error (e.g. "--device"). */
export function deviceOption(label: string, text: string, usage: string): Device {
  if (!(DEVICES as readonly string[]).includes(text)) throw new UsageError(`${label}: unknown device ${JSON.stringify(text)} (known: ${DEVICES.join(', ')})`, usage);
  return text as Device;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Structured logs on stderr (pino): from `level` up (warnings by default), everything with --verbose; LOG_LEVEL overrides both. */
export function commandLogger(verbose: boolean, level = 'warn'): StageLogger {
  const given = process.env.LOG_LEVEL;
  if (given !== undefined && !LEVELS.includes(given)) throw new SettingError(`LOG_LEVEL: ${JSON.stringify(given)} is not a level: ${LEVELS.slice(0, -1).join(', ')} or silent`);
  return pino({ level: given ?? (verbose ? 'debug' : level) }, pino.destination(2));
}

/** The error that ends a long-running command, in its JSON log with its stack and causes (main prints its message alone). */
export function logFailure(log: StageLogger, command: string, error: unknown): void {
  log.error({ err: error }, `${command} failed: ${error instanceof Error ? error.message : String(error)}`);
}
