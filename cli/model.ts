import { parseArgs } from 'node:util';
import { createAutoencoder, disposeAutoencoder } from '../model/autoencoder.js';
import { ConfigError, modelConfig, normalizationConfig } from '../model/config.js';
import { selectBackend } from '../model/backends.js';
import { modelFlops } from '../model/flops.js';
import { summarizeLayers } from '../model/summary.js';
import { silentLogger, type StageLogger } from '../stages/stage.js';
import type { ObjectStore } from '../store/object-store.js';
import { announcePromotion, promotionAnnouncement } from '../training/announce.js';
import { describeVersions, promoteChecked, rollBack, type Promotion } from '../training/promotion.js';
import { deleteUnneeded, planPrune, type PruneOptions, type VersionFate } from '../training/pruning.js';
import { readInputFile } from './files.js';
import { commandBusFlags, openCommandBus } from './command-bus.js';
import { kafkaSecurityFlags, kafkaSecurityUsage } from './kafka-security.js';
import { commandLogger, storeOption } from './sources.js';
import { UsageError } from './usage.js';

const DEFAULT_KEEP_DAYS = 30;

export const modelUsage = `usage: hrrr-embed model summary [--config FILE]
       hrrr-embed model list --models LOC
       hrrr-embed model promote ID --models LOC [--data DIR | --kafka HOST:PORT] [--force]
       hrrr-embed model rollback --models LOC [--data DIR | --kafka HOST:PORT] [--force]
       hrrr-embed model prune --models LOC [--keep-days N] [--keep ID]... [--delete]

summary: prints the autoencoder's layers (name, type, output shape, parameters), its parameter
count and its configuration as one JSON line (jq . lays it out). FILE is JSON: {"model": {...}, "normalization": {...}}
with any of the hyperparameters (inputHeight, inputWidth, cropping, downsample, nlayers,
poolsize, numfilters, numdense, seed) and normalization settings (missingValue, clipMin, clipMax, scale);
what is not given is the seed article's.

list: one JSON line per complete version of the model store, newest first: id, createdAt,
training range, metrics (held-out loss...), alert threshold, parameters, whether it is promoted,
and whether it is among the versions promoted before (consumers' fallbacks, rollback's targets).

promote: promotes version ID once it loads (manifest, weights' size and checksum) and has the
promoted version's architecture and normalization (running consumers refuse another without a
restart: --force promotes it anyway), keeping the versions promoted before; then announces it on
the model-versions topic, so running consumers swap at once. Without --data or --kafka nothing
is announced: consumers take it at their next look at promoted.json (run --model-poll-seconds).
rollback: the same for the most recent of the versions promoted before that loads (those that
do not are skipped, and named); the version rolled back from, and any skipped, are forgotten, so
a second rollback goes further back. promoted.json is rewritten only if it still holds what was
read: a version promoted by another after the checks refuses the command (exit 1, naming it), and
a trainer running meanwhile does not overrule them: it promotes a candidate only while the
version it judged against is still the promoted one. A version promoted.json names in
"beingDeleted" is refused, unless it was marked over an hour ago (its deleter stopped). Each
prints one JSON line: promoted, replaced, previous, announced (and for rollback, skipped).

prune: the versions nothing needs, one JSON line each (modelId, createdAt, action "would delete",
or "deleted" with --delete), then a count: all but the promoted version, those promoted before
(consumers' fallbacks, rollback's targets; with a promoted.json of before that list, every version
made before the promoted one), an unfinished run's candidate, those named with --keep and those
made less than --keep-days ago; and the rest of a saving or deletion that stopped part way (no
manifest.json, "incomplete": true) once older than --keep-days, unless a run is saving it. Each is
first named in promoted.json's "beingDeleted", by a write that only a promoted.json unchanged
since it was read allows (a version promoted meanwhile stays; promoting it meanwhile is refused),
then deleted manifest first. At the end "beingDeleted" loses the versions deleted, those left
without a manifest and any marked over an hour ago (their deleter stopped). Nothing is deleted
when promoted.json or a run record is unreadable, or a --keep names no version. --verbose also
prints each kept version and why (keptBecause).

  --models LOC       the model store (a folder or s3://BUCKET)
  --endpoint URL     an S3-compatible server for s3:// stores (default AWS_ENDPOINT_URL, else
                     AWS); --region R, the bucket's region (default us-east-1)
  --data DIR         announce on the embedded bus in DIR
  --kafka HOST:PORT  or on Kafka; --registry URL, --registry-lookup-only, --topic-prefix P as for run
${kafkaSecurityUsage}
  --force            promote what running consumers cannot swap in, or over a malformed promoted.json
                     (not over one the store failed to read: that refuses; try again)
  --keep-days N      prune keeps the versions made less than N days ago (default ${DEFAULT_KEEP_DAYS})
  --keep ID          prune keeps version ID (one pinned with run --version); repeat for more
  --delete           prune deletes; without it, it only says what it would delete
  -v, --verbose      debug logs on stderr
exit codes: 0 done; 1 refused (unknown, incomplete or unloadable version, one being deleted,
another architecture, nothing to roll back to, nothing known to prune by) or failure; 2 wrong
command line.`;

const SUBCOMMANDS = ['summary', 'list', 'promote', 'rollback', 'prune'] as const;
const STORE_OPTIONS = ['models', 'endpoint', 'region', 'verbose'];
const PROMOTION_OPTIONS = [...STORE_OPTIONS, 'data', 'kafka', 'registry', 'registry-lookup-only', 'topic-prefix', 'force', ...Object.keys(kafkaSecurityFlags)];
/** The options each subcommand takes, beyond --help. */
const TAKES: Record<(typeof SUBCOMMANDS)[number], string[]> = { summary: ['config'], list: STORE_OPTIONS, promote: PROMOTION_OPTIONS, rollback: PROMOTION_OPTIONS, prune: [...STORE_OPTIONS, 'keep-days', 'keep', 'delete'] };

export async function modelCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values: options, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      models: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      ...commandBusFlags,
      force: { type: 'boolean' },
      'keep-days': { type: 'string' },
      keep: { type: 'string', multiple: true },
      delete: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      ...kafkaSecurityFlags,
    },
  });
  const [subcommand, ...rest] = positionals;
  if (!(SUBCOMMANDS as readonly string[]).includes(subcommand ?? '')) throw new UsageError(`model takes one subcommand: ${SUBCOMMANDS.join(', ')}`, modelUsage);
  const name = subcommand as (typeof SUBCOMMANDS)[number];
  const wrong = Object.keys(options).find((option) => ![undefined, false].includes(options[option as keyof typeof options] as undefined) && !TAKES[name].includes(option));
  if (wrong !== undefined) throw new UsageError(`--${wrong} is not an option of model ${name}`, modelUsage);
  if (rest.length !== (name === 'promote' ? 1 : 0)) throw new UsageError(name === 'promote' ? 'model promote takes one version ID' : `model ${name} takes no other argument`, modelUsage);
  if (name === 'summary') return summaryCommand(options.config, out);
  if (options.models === undefined) throw new UsageError(`model ${name}: --models is required`, modelUsage);
  const log = commandLogger(options.verbose ?? false);
  const models = storeOption('--models', options.models, modelUsage, { log, ...(options.endpoint !== undefined && { endpoint: options.endpoint }), ...(options.region !== undefined && { region: options.region }) });
  if (name === 'list') return listCommand(models, log, out);
  if (name === 'prune') return pruneCommand(models, { keepDays: keepDays(options['keep-days']), keep: options.keep ?? [] }, { delete: options.delete ?? false, verbose: options.verbose ?? false }, out);
  const announcer = await openCommandBus(options, ['modelVersions'], 'announcing', modelUsage);
  try {
    await selectBackend('cpu', 'inference', log);
    const force = options.force ?? false;
    const { manifest, replaced, previous, skipped }: Promotion & { skipped?: Array<{ modelId: string; reason: string }> } = name === 'promote' ? await promoteChecked(models, rest[0]!, { force }) : await rollBack(models, { force });
    for (const { modelId, reason } of skipped ?? []) log.warn({ modelId, reason }, `rollback skipped ${modelId}: ${reason}`);
    if (announcer) {
      await announcePromotion(announcer.bus, announcer.codec, promotionAnnouncement(models, manifest)).catch((error: Error) => {
        throw new Error(`${manifest.modelId} is promoted, but announcing it failed (${error.message}): running consumers take it at their next look at promoted.json; model promote ${manifest.modelId} again announces it`, { cause: error });
      });
    } else log.warn({ promoted: manifest.modelId }, 'promoted without an announcement (no --data or --kafka): running consumers take it at their next look at promoted.json');
    out(JSON.stringify({ promoted: manifest.modelId, replaced, previous, ...(skipped && { skipped }), announced: announcer ? `${announcer.codec.topics.modelVersions} on ${announcer.bus.url}` : null }));
  } finally {
    await announcer?.bus.close();
  }
}

async function summaryCommand(config: string | undefined, out: (line: string) => void): Promise<void> {
  const settings = config === undefined ? {} : await readModelSettings(config);
  await selectBackend('cpu', 'inference', silentLogger);
  const model = createAutoencoder(settings);
  try {
    const summary = {
      name: model.autoencoder.name,
      params: model.autoencoder.countParams(),
      encoderParams: model.encoder.countParams(),
      decoderParams: model.decoder.countParams(),
      config: model.config,
      normalization: model.normalization,
      flopsPerImage: modelFlops(model),
      layers: summarizeLayers(model.autoencoder),
    };
    out(JSON.stringify(summary));
  } finally {
    disposeAutoencoder(model);
  }
}

async function listCommand(models: ObjectStore, log: StageLogger, out: (line: string) => void): Promise<void> {
  const { versions, promotedError } = await describeVersions(models);
  if (promotedError !== undefined) log.warn({ models: models.url }, `which version is promoted is unknown: ${promotedError}`);
  for (const version of versions) out(JSON.stringify(version));
  // Else a mistyped --models looks like an empty store: nothing on stdout, exit 0.
  if (versions.length === 0) log.warn({ models: models.url }, `no model versions in ${models.url} (retrain and trainer save them to their --models store; the demo's are in .work/demo/models)`);
}

async function pruneCommand(models: ObjectStore, options: PruneOptions, { delete: deleting, verbose }: { delete: boolean; verbose: boolean }, out: (line: string) => void): Promise<void> {
  const planned = await planPrune(models, options);
  const unneeded = planned.filter(({ keptBecause }) => keptBecause.length === 0);
  const say = ({ modelId, createdAt, incomplete, keptBecause }: VersionFate) =>
    out(JSON.stringify({ modelId, createdAt, ...(incomplete && { incomplete }), ...(keptBecause.length === 0 ? { action: deleting ? 'deleted' : 'would delete' } : { action: 'kept', keptBecause }) }));
  if (verbose) planned.filter(({ keptBecause }) => keptBecause.length > 0).forEach(say);
  let removed = 0;
  // A version kept only since the plan (promoted meanwhile) is said whatever --verbose.
  const done = (fate: VersionFate) => {
    if (fate.keptBecause.length === 0) removed += 1;
    say(fate);
  };
  if (deleting) await deleteUnneeded(models, planned, done);
  else unneeded.forEach(done);
  out(JSON.stringify({ versions: planned.length, kept: planned.length - removed, [deleting ? 'deleted' : 'wouldDelete']: removed }));
}

function keepDays(given: string | undefined): number {
  if (given === undefined) return DEFAULT_KEEP_DAYS;
  if (!/^\d+$/.test(given)) throw new UsageError(`--keep-days: ${JSON.stringify(given)} is not a whole number of days`, modelUsage);
  return Number(given);
}

/** A settings file as `model summary --config` and `reconstruct --config` take it: {"model": {...}, "normalization": {...}}. */
export async function readModelSettings(path: string): Promise<{ config?: unknown; normalization?: unknown }> {
  // Without a byte order mark (Windows editors and PowerShell write one), which is no JSON.
  const text = (await readInputFile(path)).toString('utf8').replace(/^\uFEFF/, '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // JSON.parse quotes the text it stopped in, line breaks and all: one line, naming the file.
    throw new Error(`${path}: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${path}: must hold a JSON object`);
  const { model, normalization, ...rest } = parsed as Record<string, unknown>;
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined) throw new Error(`${path}: unknown key ${JSON.stringify(unknownKey)} (known: model, normalization)`);
  if (model !== undefined && (model === null || typeof model !== 'object' || Array.isArray(model))) throw new Error(`${path}: "model" must be an object, not ${JSON.stringify(model)}`);
  // Checked here, so that a wrong setting is named with the file and its place in it, wherever the file was given.
  const named = (check: () => unknown, place: string) => {
    try {
      check();
    } catch (error) {
      if (error instanceof ConfigError) throw new Error(`${path}: ${place}${error.message}`, { cause: error });
      throw error;
    }
  };
  named(() => modelConfig(model ?? {}), 'model.');
  named(() => normalizationConfig(normalization ?? {}), '');
  return { config: model ?? {}, normalization: normalization ?? {} };
}
