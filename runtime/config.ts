import { NOAA_HRRR_BUCKET } from '../store/open.js';
import { loadSettings, type LoadedSettings } from './settings.js';

/**
 * The settings of `hrrr-embed run`, one per command-line option (topicPrefix is --topic-prefix
 * and HRRR_EMBED_TOPIC_PREFIX), with their types and defaults. A setting without a default is
 * absent unless given.
 */
export const RUN_SETTINGS = {
  source: { kind: 'string', default: NOAA_HRRR_BUCKET },
  endpoint: { kind: 'string' },
  region: { kind: 'string' },
  field: { kind: 'strings' },
  match: { kind: 'string' },
  product: { kind: 'string', default: 'wrfsfcf00' },
  domain: { kind: 'string', default: 'conus' },
  verbose: { kind: 'boolean', default: false, short: 'v' },
  data: { kind: 'string' },
  kafka: { kind: 'string' },
  registry: { kind: 'string' },
  topicPrefix: { kind: 'string', default: '' },
  partitions: { kind: 'number', default: 1, min: 1 },
  state: { kind: 'string' },
  shards: { kind: 'string' },
  from: { kind: 'string' },
  to: { kind: 'string' },
  once: { kind: 'boolean', default: false },
  model: { kind: 'string' },
  version: { kind: 'string' },
  device: { kind: 'string', default: 'auto' },
  alertThreshold: { kind: 'number', min: 0 },
  // No defaults: both follow the backend (see defaultBatching in cli/run.ts).
  concurrency: { kind: 'number', min: 1 },
  batchSize: { kind: 'number', min: 1, max: 256, integer: true },
  batchWaitMs: { kind: 'number', default: 50, min: 0 },
  encoderThread: { kind: 'string', default: 'auto' },
  pollSeconds: { kind: 'number', default: 30, min: 0.01 },
  drainSeconds: { kind: 'number', default: 60, min: 0 },
  modelPollSeconds: { kind: 'number', default: 60, min: 0.01 },
  events: { kind: 'string' },
  group: { kind: 'string', default: 'hrrr-embed' },
  metricsPort: { kind: 'number', min: 0, max: 65535, integer: true },
  metricsHost: { kind: 'string', default: '127.0.0.1' },
} as const;

export type RunSettings = LoadedSettings<typeof RUN_SETTINGS>;

export const RUN_ENV_PREFIX = 'HRRR_EMBED_';

/** The settings of `run`: command line, then HRRR_EMBED_* variables, then the --config file, then defaults. */
export function loadRunSettings(args: string[], env: NodeJS.ProcessEnv): RunSettings {
  return loadSettings(RUN_SETTINGS, { args, env, envPrefix: RUN_ENV_PREFIX });
}
