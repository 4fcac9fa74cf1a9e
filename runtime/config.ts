import { NOAA_HRRR_BUCKET } from '../store/open.js';
import { loadSettings, type LoadedSettings } from './settings.js';

/** The longest a Node timer waits, in ms and in whole seconds: a longer one is cut to 1 ms (a drain that does not wait, a poll in a busy loop). */
const TIMER_MAX_MS = 2 ** 31 - 1;
const TIMER_MAX_SECONDS = Math.floor(TIMER_MAX_MS / 1000);

/**
 * How run, retrain and trainer present themselves to Kafka (the client id that quotas and ACLs
 * name) and connect to a secured cluster (see cli/kafka-security.ts); the password is best given
 * by the environment (HRRR_EMBED_KAFKA_PASSWORD, from a Secret).
 */
const KAFKA_CLIENT_SETTINGS = {
  kafkaClientId: { kind: 'string', default: 'hrrr-embed' },
  kafkaTls: { kind: 'boolean', default: false },
  kafkaCa: { kind: 'string' },
  kafkaSaslMechanism: { kind: 'string' },
  kafkaUsername: { kind: 'string' },
  kafkaPassword: { kind: 'string', secret: true },
} as const;

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
  ...KAFKA_CLIENT_SETTINGS,
  registry: { kind: 'string' },
  registryLookupOnly: { kind: 'boolean', default: false },
  topicPrefix: { kind: 'string', default: '' },
  partitions: { kind: 'number', default: 1, min: 1, integer: true },
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
  concurrency: { kind: 'number', min: 1, integer: true },
  batchSize: { kind: 'number', min: 1, max: 256, integer: true },
  batchWaitMs: { kind: 'number', default: 50, min: 0, max: TIMER_MAX_MS },
  encoderThread: { kind: 'string', default: 'auto' },
  pollSeconds: { kind: 'number', default: 30, min: 0.01, max: TIMER_MAX_SECONDS },
  drainSeconds: { kind: 'number', default: 60, min: 0, max: TIMER_MAX_SECONDS },
  modelPollSeconds: { kind: 'number', default: 60, min: 0.01, max: TIMER_MAX_SECONDS },
  events: { kind: 'string' },
  group: { kind: 'string', default: 'hrrr-embed' },
  metricsPort: { kind: 'number', min: 0, max: 65535, integer: true },
  metricsHost: { kind: 'string', default: '127.0.0.1' },
  stallSeconds: { kind: 'number', default: 900, min: 1, max: TIMER_MAX_SECONDS },
} as const;

export type RunSettings = LoadedSettings<typeof RUN_SETTINGS>;

export const RUN_ENV_PREFIX = 'HRRR_EMBED_';

/** The settings of `run`: command line, then HRRR_EMBED_* variables, then the --config file, then defaults. */
export function loadRunSettings(args: string[], env: NodeJS.ProcessEnv): RunSettings {
  return loadSettings(RUN_SETTINGS, { args, env, envPrefix: RUN_ENV_PREFIX });
}

/**
 * The settings of `hrrr-embed retrain` (and of `trainer`, which adds its own): command line, then
 * HRRR_EMBED_TRAINER_* variables, then the --config file, then these defaults.
 */
export const RETRAIN_SETTINGS = {
  models: { kind: 'string' },
  shards: { kind: 'string' },
  endpoint: { kind: 'string' },
  region: { kind: 'string' },
  field: { kind: 'string', default: 'REFC:entire atmosphere:anl' },
  from: { kind: 'string' },
  to: { kind: 'string' },
  days: { kind: 'number', default: 30, min: 1, integer: true },
  steps: { kind: 'number', default: 1000, min: 1, integer: true },
  batchSize: { kind: 'number', default: 4, min: 1, max: 256, integer: true },
  stepsPerCheckpoint: { kind: 'number', default: 100, min: 1, integer: true },
  learningRate: { kind: 'number', default: 0.001, min: 1e-9 },
  runId: { kind: 'string' },
  fresh: { kind: 'boolean', default: false },
  modelConfig: { kind: 'string' },
  force: { kind: 'boolean', default: false },
  compactShards: { kind: 'boolean', default: false },
  heldOut: { kind: 'number', default: 0.15, min: 0.01, max: 0.5 },
  thresholdQuantile: { kind: 'number', default: 0.99, min: 0.5, max: 1 },
  seed: { kind: 'number', default: 1, min: 0, integer: true },
  interleave: { kind: 'number', default: 4, min: 1, integer: true },
  shuffleBuffer: { kind: 'number', default: 64, min: 1, integer: true },
  device: { kind: 'string', default: 'auto' },
  data: { kind: 'string' },
  kafka: { kind: 'string' },
  ...KAFKA_CLIENT_SETTINGS,
  registry: { kind: 'string' },
  registryLookupOnly: { kind: 'boolean', default: false },
  topicPrefix: { kind: 'string', default: '' },
  quiet: { kind: 'boolean', default: false },
  verbose: { kind: 'boolean', default: false, short: 'v' },
} as const;

export const TRAINER_SETTINGS = {
  ...RETRAIN_SETTINGS,
  schedule: { kind: 'string' },
  group: { kind: 'string', default: 'hrrr-embed-trainer' },
  printNext: { kind: 'number', min: 1, max: 100, integer: true },
  catchUpHours: { kind: 'number', min: 0, default: 24 },
  metricsPort: RUN_SETTINGS.metricsPort,
  metricsHost: RUN_SETTINGS.metricsHost,
  // A training step of the seed model on cpu was measured at about 1,841 s (README, Speed).
  stallSeconds: { ...RUN_SETTINGS.stallSeconds, default: 3600 },
} as const;

/**
 * The trainer's variables have a prefix of their own, HRRR_EMBED_TRAINER_ (HRRR_EMBED_TRAINER_MODELS,
 * HRRR_EMBED_TRAINER_CONFIG): a container running both `run` and the trainer would otherwise see
 * `run`'s HRRR_EMBED_MODEL taken for a misspelt --models.
 */
export const TRAINER_ENV_PREFIX = 'HRRR_EMBED_TRAINER_';

export function loadRetrainSettings(args: string[], env: NodeJS.ProcessEnv): LoadedSettings<typeof RETRAIN_SETTINGS> {
  return loadSettings(RETRAIN_SETTINGS, { args, env, envPrefix: TRAINER_ENV_PREFIX });
}

export function loadTrainerSettings(args: string[], env: NodeJS.ProcessEnv): LoadedSettings<typeof TRAINER_SETTINGS> {
  return loadSettings(TRAINER_SETTINGS, { args, env, envPrefix: TRAINER_ENV_PREFIX });
}
