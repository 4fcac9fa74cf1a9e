import { AvroCodec } from '../bus/avro/codec.js';
import { SchemaRegistryClient } from '../bus/avro/schema-registry.js';
import { topicNames, type TopicBus } from '../bus/bus.js';
import { defaultDataFolder, openBus } from '../bus/open.js';
import { selectBackend } from '../model/backends.js';
import { ConfigError, modelConfig, normalizationConfig } from '../model/config.js';
import { floorHour, HOUR_MS } from '../stages/sources/hrrr-archive.js';
import type { StageLogger } from '../stages/stage.js';
import { loadRetrainSettings, RETRAIN_SETTINGS } from '../runtime/config.js';
import type { LoadedSettings, Settings } from '../runtime/settings.js';
import type { ObjectStore } from '../store/object-store.js';
import { checkEndpoint } from '../store/open.js';
import { announcePromotion } from '../training/announce.js';
import { unfinishedRuns } from '../training/checkpoints.js';
import { compactTrainerShards } from '../training/compaction.js';
import { acquireLease, leaseOwner, type HeldLease, type LeaseRecord } from '../store/lease.js';
import { retrain, RunInterrupted, type RetrainOptions, type RetrainResult, type TrainingProgress } from '../training/retrain.js';
import { kafkaSecurityOption } from './kafka-security.js';
import { ProgressBar } from './progress-bar.js';
import { openShardCatalog } from '../shards/catalog.js';
import { readModelSettings } from './model.js';
import { commandLogger, deviceOption, hourOption, logFailure, storeOption } from './sources.js';
import { optionOrUsage, settingsOrUsage, UsageError } from './usage.js';

export const retrainOptionsUsage = `  --models LOC       the model store (a folder or s3://BUCKET): versions, promoted.json, and
                     the runs' checkpoints under training/RUN_ID/
  --shards LOC       the shard store the shard sink writes (a folder or s3://BUCKET)
  --endpoint URL     an S3-compatible server for s3:// stores (default AWS_ENDPOINT_URL, else
                     AWS); --region R, the buckets' region (default us-east-1)
  --field F          the field to train on (default "REFC:entire atmosphere:anl")
  --from T, --to T   the valid times to train on, YYYY-MM-DDTHHZ (default: --to the current
                     hour, --from --days N days before --to, N = 30; --days or --from, not both)
  --steps N          training steps, batches of --batch-size N fields (default 1000 of 4)
  --steps-per-checkpoint N  a virtual epoch: checkpoint, and held-out loss, every N steps (100)
  --learning-rate X  Adam's (default 0.001, Keras's)
  --fresh            start from a fresh model of --model-config FILE ({"model": {...},
                     "normalization": {...}}, as model summary takes) or of the seed's
                     configuration; default: from the promoted version's weights, or, when
                     nothing is promoted yet, a fresh model of the seed's configuration
  --force            promote the new version even when it is worse on the held-out fields
  --compact-shards   before each run, merge each ended day's shards into one, as shards
                     compact does (the lease is already held)
  --held-out X       share of days held out, chosen by a hash of the UTC day (default 0.15)
  --threshold-quantile Q  the alert threshold: this quantile of the held-out errors (0.99)
  --seed N           the shuffle's seed (default 1); --interleave N shards read at once (4);
                     --shuffle-buffer N rows (64)
  --device D         auto (default), tensorflow, webgpu or cpu (wasm cannot train)
  --data DIR         announce promotions on the embedded bus in DIR (default ${defaultDataFolder})
  --kafka HOST:PORT  or on Kafka; --registry URL, --registry-lookup-only, --topic-prefix P as for run
  --kafka-client-id ID, --kafka-tls, --kafka-ca FILE, --kafka-sasl-mechanism M,
                     --kafka-username U: as for run, the password from HRRR_EMBED_TRAINER_KAFKA_PASSWORD
  --quiet            no progress bar on a terminal (there is none elsewhere); -v, --verbose:
                     debug logs
  --config FILE      settings from a JSON file, keys the options in camelCase; each also from
                     HRRR_EMBED_TRAINER_<KEY> (HRRR_EMBED_TRAINER_MODELS)`;

export const retrainUsage = `usage: hrrr-embed retrain --models LOC --shards LOC [--from T | --days N] [--to T] [--steps N] [OPTIONS]

Retrains the autoencoder on the shards of a time range: the promoted version's weights (or a
fresh model with --fresh), Adam on LogCosh, batches shuffled across shards, a checkpoint every
--steps-per-checkpoint steps. Then the candidate and the promoted version are evaluated on the
same held-out shards; the candidate is saved as a version, with its loss curve and a picture of a
held-out field before and after, and promoted only when its held-out loss is lower (or with
--force), its alert threshold the --threshold-quantile of its held-out errors. A promotion is
announced on the model-versions topic. SIGINT or SIGTERM stops the run after the step under way,
with a checkpoint (exit status 0); a second signal stops at once, without it (exit status 1).
--run-id ID names the run: after a crash or a stop, the same command resumes it from its last
checkpoint. Without --run-id, runs left unfinished (a retrain or trainer killed or stopped) are
resumed instead of a new one, which starts when none can be. Only one retraining or trainer per model store:
it waits while another holds the store's lease. Prints a JSON line per checkpoint and one with
the outcome; progress (step, loss, rate, ETA) goes to stderr.

  --run-id ID        the run's name (default retrain-YYYYMMDDTHHMMZ, now)
${retrainOptionsUsage}
exit codes: 0 done, promoted or not; 1 failure; 2 wrong command line.`;

type RetrainValues = Settings<typeof RETRAIN_SETTINGS>;

/** What `retrain` and `trainer` share: the stores, the bus, and the options of every run but the run's own. */
export interface RetrainingSetup {
  base: Omit<RetrainOptions, 'runId' | 'from' | 'to' | 'force'>;
  /** The time range of a run starting now. */
  range: (now: Date) => { from: Date; to: Date };
  bus: TopicBus;
  codec: AvroCodec;
  log: StageLogger;
  /** With --compact-shards: compacts the shard store before each run; never fails. */
  compact?: (signal: AbortSignal) => Promise<void>;
}

/** `watchModels`: the model store as the runs and everything between them use it (the trainer's watchdog). */
export async function prepareRetraining(values: RetrainValues, { origin, given }: Pick<LoadedSettings<typeof RETRAIN_SETTINGS>, 'origin' | 'given'>, usage: string, watchModels: (models: ObjectStore) => ObjectStore = (models) => models): Promise<RetrainingSetup> {
  for (const required of ['models', 'shards'] as const) if (values[required] === undefined) throw new UsageError(`--${required} is required`, usage);
  if (values.data !== undefined && values.kafka !== undefined) throw new UsageError(`${origin('data')} and ${origin('kafka')} name two buses: give one`, usage);
  if (values.modelConfig !== undefined && !values.fresh) throw new UsageError(`${origin('modelConfig')} needs --fresh: a warm start keeps the promoted version's configuration`, usage);
  const from = values.from === undefined ? undefined : hourOption(origin('from'), values.from, usage);
  const to = values.to === undefined ? undefined : hourOption(origin('to'), values.to, usage);
  if (from && to && to < from) throw new UsageError(`${origin('to')} ${values.to} comes before ${origin('from')} ${values.from}`, usage);
  if (from && given('days')) throw new UsageError(`${origin('days')} and ${origin('from')}: give one (${origin('days')} counts back from --to, or from now)`, usage);
  const device = deviceOption(origin('device'), values.device, usage);
  const fresh = values.fresh ? await freshModel(values.modelConfig, origin('modelConfig')) : undefined;
  const topics = optionOrUsage(origin('topicPrefix'), usage, () => topicNames(values.topicPrefix));
  if (values.registryLookupOnly && values.registry === undefined) throw new UsageError(`${origin('registryLookupOnly')} needs --registry`, usage);
  const registry = values.registry === undefined ? undefined : optionOrUsage(origin('registry'), usage, () => new SchemaRegistryClient(values.registry!));
  const kafkaSecurity = kafkaSecurityOption(values, origin, usage);
  const log = commandLogger(values.verbose, 'info');
  // A wrong --endpoint is its own mistake, not that of the first store it was meant for.
  if (values.endpoint !== undefined) optionOrUsage(origin('endpoint'), usage, () => checkEndpoint(values.endpoint!));
  const location = { log, ...(values.endpoint !== undefined && { endpoint: values.endpoint }), ...(values.region !== undefined && { region: values.region }) };
  const models = watchModels(storeOption(origin('models'), values.models!, usage, location));
  const shardStore = storeOption(origin('shards'), values.shards!, usage, location);
  const shards = openShardCatalog(shardStore, undefined, { onUnreadableManifest: (error) => log.error({ err: error.message }, `shard left out: ${error.message}`) });
  let bus;
  try {
    bus = openBus({ ...(values.data !== undefined && { data: values.data }), ...(values.kafka !== undefined && { kafka: values.kafka }), kafkaClientId: values.kafkaClientId, ...(kafkaSecurity && { kafkaSecurity }), log });
  } catch (error) {
    throw new UsageError(`${origin('kafka')}: ${(error as Error).message}`, usage);
  }
  const codec = await AvroCodec.create({ topics, ...(registry && { registry, lookupOnly: values.registryLookupOnly }) });
  await codec.registerSchemas(['modelVersions']);
  await selectBackend(device, 'training', log);
  const range = (now: Date) => {
    const end = to ?? new Date(floorHour(now.getTime()));
    return { from: from ?? new Date(end.getTime() - values.days * 24 * HOUR_MS), to: end };
  };
  const base = {
    models,
    shards,
    field: values.field,
    steps: values.steps,
    batchSize: values.batchSize,
    stepsPerCheckpoint: values.stepsPerCheckpoint,
    learningRate: values.learningRate,
    ...(fresh && { fresh }),
    heldOutFraction: values.heldOut,
    thresholdQuantile: values.thresholdQuantile,
    seed: values.seed,
    interleave: values.interleave,
    bufferSize: values.shuffleBuffer,
    announce: (version: Parameters<typeof announcePromotion>[2]) => announcePromotion(bus, codec, version),
    log,
  };
  const compact = async (signal: AbortSignal) => {
    // A run does not depend on it: one part way through leaves hours twice, which a run takes once a pass.
    await compactTrainerShards(models, { store: shardStore, field: values.field, log, signal }).catch((error: unknown) => {
      log.warn({ error: (error as Error).message }, 'compacting the shards failed: training on them as they are');
    });
  };
  return { base, range, bus, codec, log, ...(values.compactShards && { compact }) };
}

/** A fresh model's settings: those of FILE, read as model summary reads them, or the seed's. */
async function freshModel(file: string | undefined, label: string): Promise<NonNullable<RetrainOptions['fresh']>> {
  let given: { config?: unknown; normalization?: unknown } = {};
  if (file !== undefined) {
    try {
      given = await readModelSettings(file);
    } catch (error) {
      throw new ConfigError(label, (error as Error).message);
    }
  }
  return { config: modelConfig(given.config ?? {}), normalization: normalizationConfig(given.normalization ?? {}) };
}

/** One run, with a progress bar on a terminal's stderr and a JSON line per checkpoint; SIGINT or SIGTERM checkpoints and stops it. */
export async function runRetraining(
  setup: RetrainingSetup,
  run: { runId: string; force: boolean; from: Date; to: Date; confirmLease: () => Promise<void> },
  quiet: boolean,
  out: (line: string) => void,
  signal: AbortSignal,
  onStep?: (progress: TrainingProgress) => void,
): Promise<RetrainResult> {
  let bar: ProgressBar | undefined;
  let lastLogged = 0;
  await setup.compact?.(signal);
  return retrain({
    ...setup.base,
    ...run,
    signal,
    onProgress: (progress) => {
      onStep?.(progress);
      const { step, steps, loss, rate, etaSeconds } = progress;
      // Off a terminal (a container's log) the 'training' line below says the same, as JSON.
      bar ??= quiet || !process.stderr.isTTY ? undefined : new ProgressBar(steps - step + 1, 'steps');
      bar?.tick();
      if (Date.now() - lastLogged >= 10_000 || step === steps) {
        lastLogged = Date.now();
        setup.log.info({ runId: run.runId, step, steps, loss, rate, etaSeconds }, 'training');
      }
    },
    onCheckpoint: ({ step, trainLoss, heldOutLoss }) => out(JSON.stringify({ runId: run.runId, checkpoint: step, trainLoss, heldOutLoss })),
  }).finally(() => bar?.finish());
}

/**
 * SIGINT and SIGTERM for a training command: the first aborts `stop` (the run stops after its
 * step, with a checkpoint); a second stops the process at once, exit status 1, as `run` does. What
 * the model store holds then stays whole: a version is listed once its manifest, written last, is
 * there, a checkpoint is resumed once latest.json, written last, names it, and promoted.json is
 * one object. Returns what removes the handlers.
 */
export function handleStopSignals(log: StageLogger, stop: AbortController, stopping: string): () => void {
  let signalled = false;
  const handle = (signal: NodeJS.Signals) => {
    if (!signalled) {
      signalled = true;
      log.info({ signal }, `stopping: ${stopping} (a second signal stops at once)`);
      stop.abort();
      return;
    }
    log.warn({ signal }, `second ${signal}: stopping now, without a checkpoint; the run resumes from its last one`);
    // Not a drain: the step or checkpoint under way may not end soon (or ever, on a store that hangs).
    process.exit(1);
  };
  process.on('SIGINT', handle).on('SIGTERM', handle);
  return () => process.off('SIGINT', handle).off('SIGTERM', handle);
}

/**
 * Runs `work` holding the model store's trainer lease, first waiting for it while another
 * trainer holds it (`stop` ends the wait; `onWait` is told each holder waited for). A lost lease
 * stops the work as `stop` does, then fails, so that a supervisor restarts the process to wait its turn.
 */
export async function holdingTrainerLease(models: ObjectStore, log: StageLogger, stop: AbortController, work: (lease: HeldLease) => Promise<void>, onWait?: (holder: LeaseRecord) => void): Promise<void> {
  const lease = await acquireLease(models, { owner: leaseOwner(), log, signal: stop.signal, ...(onWait && { onWait }) });
  if (!lease) return;
  log.info({ epoch: lease.epoch }, 'holding the trainer lease of this model store');
  lease.lost.addEventListener('abort', () => stop.abort());
  try {
    await work(lease);
  } finally {
    await lease.release();
  }
  if (lease.lost.aborted) throw lease.lost.reason as Error;
}

export async function retrainCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values, origin, given } = settingsOrUsage(() => loadRetrainSettings(args, process.env), retrainUsage);
  const setup = await prepareRetraining(values, { origin, given }, retrainUsage);
  const now = new Date();
  const stop = new AbortController();
  const unhandleSignals = handleStopSignals(setup.log, stop, 'checkpointing the run');
  try {
    await holdingTrainerLease(setup.base.models, setup.log, stop, async (lease) => {
      /** Runs (or resumes) one run; false when a stop interrupted it. */
      const runOnce = async (runId: string): Promise<boolean> => {
        try {
          const result = await runRetraining(setup, { runId, force: values.force, ...setup.range(now), confirmLease: lease.confirm }, values.quiet, out, stop.signal);
          out(JSON.stringify(result));
          return true;
        } catch (error) {
          if (!(error instanceof RunInterrupted)) throw error;
          out(JSON.stringify({ runId, interrupted: error.step, resume: `the same command with --run-id ${runId}` }));
          return false;
        }
      };
      if (values.runId !== undefined) return void (await runOnce(values.runId));
      // A run killed (a CronJob's pod out of memory, tried again under another default id) would
      // otherwise never be resumed: its checkpoint kept for good, and its days never compacted.
      let resumed = 0;
      for (const runId of await unfinishedRuns(setup.base.models)) {
        setup.log.warn({ runId }, `resuming run ${runId}, left unfinished (killed or stopped), instead of starting another`);
        try {
          if (!(await runOnce(runId))) return;
          resumed++;
        } catch (error) {
          if (stop.signal.aborted) throw error;
          setup.log.error({ err: error, runId }, `run ${runId}, left unfinished, cannot be resumed: ${(error as Error).message}`);
        }
      }
      if (resumed === 0) await runOnce(`retrain-${now.toISOString().slice(0, 16).replace(/[-:]/g, '')}Z`);
    });
  } catch (error) {
    logFailure(setup.log, 'retrain', error);
    throw error;
  } finally {
    unhandleSignals();
    await setup.bus.close();
  }
}
