/**
 * One retraining run: choose the shards of a time range (held-out ones by hash), train the
 * promoted version (or a fresh model) in virtual epochs of `stepsPerCheckpoint` steps with a
 * checkpoint after each, so a crashed run resumes where its last checkpoint left it; then judge
 * the candidate against the promoted version on the same held-out fields, save it as a version
 * (with its loss curve and a before/after picture), and promote it only when it is better (or
 * forced), announcing the promotion.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelVersion } from '../bus/records.js';
import { createAutoencoder, disposeAutoencoder, type Autoencoder } from '../model/autoencoder.js';
import { croppedShape, type ModelConfig, type NormalizationConfig } from '../model/config.js';
import { reconstruct, sideBySide } from '../model/picture.js';
import { compileForTraining, trainStep } from '../model/train.js';
import { loadVersion, newVersionId, promotedVersion, promoteVersion, readManifest, saveVersion } from '../model/versions.js';
import { differingSetting } from '../pipelines/model-slot.js';
import type { ShardCatalog, ShardManifest, ShardRow } from '../shards/types.js';
import type { StageLogger } from '../stages/stage.js';
import type { ObjectStore } from '../store/object-store.js';
import { shuffledRows, START, trainingBatches, type StreamPosition } from './batches.js';
import { leavingOutCorruptShards } from './corrupt-shards.js';
import { deleteCheckpoints, loadCheckpoint, readPointer, restoreOptimizer, saveCheckpoint, writePointer, type RunOutcome, type RunPlan, type RunPointer } from './checkpoints.js';
import { evaluateHeldOut, mean, quantile } from './evaluate.js';
import { splitShards } from './held-out.js';
import { lossCurvePicture } from './loss-curve.js';
import { deleteAbandonedCandidate } from './pruning.js';
import { promotionAnnouncement } from './announce.js';

export interface RetrainOptions {
  /** The model store: versions, promoted.json, and training/RUN_ID/ checkpoints. */
  models: ObjectStore;
  shards: ShardCatalog;
  field: string;
  from: Date;
  to: Date;
  runId: string;
  steps: number;
  batchSize: number;
  stepsPerCheckpoint: number;
  learningRate: number;
  /** Start from a fresh model of this configuration instead of the promoted version's weights. */
  fresh?: { config: ModelConfig; normalization: NormalizationConfig };
  /** Promote the candidate even when it is worse. */
  force: boolean;
  /** Share of days held out (by a hash of the UTC day; see held-out.ts). */
  heldOutFraction: number;
  /** The alert threshold: this quantile of the candidate's held-out errors. */
  thresholdQuantile: number;
  seed: number;
  interleave: number;
  bufferSize: number;
  /** Publishes a promotion on the model-versions topic. */
  announce?: (version: ModelVersion) => Promise<void>;
  /** Rejects when this run may no longer write checkpoints, save its candidate or promote: its trainer lost the model store's lease (store/lease.ts). */
  confirmLease?: () => Promise<void>;
  onProgress?: (progress: TrainingProgress) => void;
  onCheckpoint?: (checkpoint: { step: number; trainLoss: number; heldOutLoss: number }) => void;
  /** Stops the run at the next step: a checkpoint is written first, then a RunInterrupted is thrown. */
  signal?: AbortSignal;
  log: StageLogger;
}

export interface TrainingProgress {
  step: number;
  steps: number;
  loss: number;
  /** Steps per second in this process (since it started or resumed). */
  rate: number;
  /** Seconds to the last step at that rate. */
  etaSeconds: number;
}

/** The run stopped on request after checkpointing `step`; the same run id resumes it. */
export class RunInterrupted extends Error {
  override readonly name = 'RunInterrupted';
  constructor(readonly step: number) {
    super(`stopped after step ${step}, checkpointed: run again with the same run id to resume`);
  }
}

export interface RetrainResult extends RunOutcome {
  runId: string;
  /** The step this process started at: 0, or the checkpoint it resumed from. */
  resumedAt: number;
}

export async function retrain(given: RetrainOptions): Promise<RetrainResult> {
  const options = { ...given, shards: leavingOutCorruptShards(given.shards, given.log) };
  const { models, runId, log } = options;
  const pointer = await readPointer(models, runId);
  if (pointer?.finished) {
    log.info({ runId, modelId: pointer.finished.modelId }, 'this run is over already');
    // Left by a run stopped right after it finished.
    await deleteCheckpoints(models, runId);
    return { runId, resumedAt: pointer.step, ...pointer.finished };
  }
  if (pointer?.judged) {
    log.info({ runId, modelId: pointer.judged.modelId }, 'the candidate was saved and judged already: finishing its promotion');
    return { runId, resumedAt: pointer.step, ...(await conclude(options, pointer, pointer.judged)) };
  }
  // Never promoted (a candidate is promoted once judged), unless by hand: then it stays.
  if (pointer?.saving) {
    const keptBecause = await deleteAbandonedCandidate(models, pointer.saving);
    if (keptBecause === undefined) log.warn({ runId, modelId: pointer.saving }, 'the run stopped while saving its candidate: removed what it saved, to judge and save the candidate again');
    else log.warn({ runId, modelId: pointer.saving, keptBecause }, 'the run stopped while saving its candidate: kept what it saved (model prune deletes it once unneeded); judging and saving the candidate again');
  }
  const run = pointer ? await resume(options, pointer) : await begin(options);
  const { plan, model } = run;
  try {
    const resumedAt = run.step;
    if (resumedAt > 0) log.info({ runId, step: resumedAt, steps: plan.steps }, 'resuming from the last checkpoint');
    await train(options, run);
    const judged = await judge(options, run);
    const pointer = { step: run.step, checkpoint: run.checkpoint, judged };
    await writePointer(models, runId, pointer);
    return { runId, resumedAt, ...(await conclude(options, pointer, judged)) };
  } finally {
    disposeAutoencoder(model);
  }
}

interface Run {
  plan: RunPlan;
  model: Autoencoder;
  shards: { train: ShardManifest[]; heldOut: ShardManifest[] };
  step: number;
  position: StreamPosition;
  trainLoss: number[];
  heldOutLoss: Array<{ step: number; loss: number }>;
  /** The latest checkpoint's prefix ("" before the first). */
  checkpoint: string;
}

async function begin(options: RetrainOptions): Promise<Run> {
  const { models, shards, field, from, to, log } = options;
  const listed = await shards.list({ field, from, to });
  if (listed.length === 0) throw new Error(`no shards of ${field} from ${from.toISOString()} to ${to.toISOString()} in ${shards.url}`);
  const split = splitShards(listed, options.heldOutFraction);
  if (split.heldOut.length === 0) throw new Error(`only one shard of ${field} in that range (${listed[0]!.id}): at least two are needed, one to hold out`);
  let model: Autoencoder;
  let startedFrom: string;
  const promoted = options.fresh ? undefined : await promotedVersion(models);
  if (promoted === undefined) {
    // The first training of a deployment (nothing promoted) starts, as the consumers did, from the seed's configuration.
    if (!options.fresh) log.info({ models: models.url }, "no version is promoted yet: training a fresh model of the seed's configuration");
    model = createAutoencoder(options.fresh ?? {});
    startedFrom = 'fresh';
  } else {
    model = (await loadVersion(models, promoted)).model;
    startedFrom = promoted;
  }
  try {
    checkShards(listed, model);
    compileForTraining(model, { learningRate: options.learningRate });
  } catch (error) {
    disposeAutoencoder(model);
    throw error;
  }
  const plan: RunPlan = {
    runId: options.runId,
    field,
    from: from.toISOString(),
    to: to.toISOString(),
    train: split.train.map((shard) => shard.id),
    heldOut: split.heldOut.map((shard) => shard.id),
    startedFrom,
    config: model.config,
    normalization: model.normalization,
    learningRate: options.learningRate,
    batchSize: options.batchSize,
    steps: options.steps,
    stepsPerCheckpoint: options.stepsPerCheckpoint,
    seed: options.seed,
    interleave: options.interleave,
    bufferSize: options.bufferSize,
    force: options.force,
  };
  log.info({ runId: plan.runId, startedFrom, trainShards: plan.train.length, heldOutShards: plan.heldOut.length, steps: plan.steps }, 'training run planned');
  return { plan, model, shards: split, step: 0, position: START, trainLoss: [], heldOutLoss: [], checkpoint: '' };
}

/** The run as its last checkpoint left it; its plan (shards, hyperparameters, total steps) wins over the options, with a warning naming each it overrules. */
async function resume(options: RetrainOptions, pointer: RunPointer): Promise<Run> {
  const { state, model, optimizer } = await loadCheckpoint(options.models, pointer);
  try {
    compileForTraining(model, { learningRate: state.plan.learningRate });
    await restoreOptimizer(model, optimizer);
    const { plan } = state;
    warnOfIgnoredSettings(options, plan);
    const listed = await options.shards.list({ field: plan.field, from: new Date(plan.from), to: new Date(plan.to) });
    const byId = new Map(listed.map((shard) => [shard.id, shard]));
    const pick = (ids: string[]) => {
      const missing = ids.filter((id) => !byId.has(id));
      if (missing.length) throw new Error(`run ${plan.runId}: shards ${missing.join(', ')} are gone from the shard store`);
      return ids.map((id) => byId.get(id)!);
    };
    return { plan, model, shards: { train: pick(plan.train), heldOut: pick(plan.heldOut) }, step: state.step, position: state.position, trainLoss: state.trainLoss, heldOutLoss: state.heldOutLoss, checkpoint: pointer.checkpoint };
  } catch (error) {
    disposeAutoencoder(model);
    tf.dispose(optimizer.map(({ tensor }) => tensor));
    throw error;
  }
}

/** The settings a run's plan fixes when it starts, by the command-line option that gives them. */
const PLANNED_SETTINGS = {
  field: '--field',
  steps: '--steps',
  batchSize: '--batch-size',
  learningRate: '--learning-rate',
  stepsPerCheckpoint: '--steps-per-checkpoint',
  seed: '--seed',
  interleave: '--interleave',
  bufferSize: '--shuffle-buffer',
} as const satisfies Partial<Record<keyof RunPlan & keyof RetrainOptions, string>>;

/** A resumed run trains as it was planned: settings given now that differ are ignored, and said so, lest the user think them in force. */
function warnOfIgnoredSettings(options: RetrainOptions, plan: RunPlan): void {
  const ignored: Record<string, { checkpoint: unknown; given: unknown }> = {};
  const said: string[] = [];
  for (const [key, option] of Object.entries(PLANNED_SETTINGS) as Array<[keyof typeof PLANNED_SETTINGS, string]>) {
    if (options[key] === plan[key]) continue;
    ignored[key] = { checkpoint: plan[key], given: options[key] };
    said.push(`${option} ${plan[key]} (this command's ${options[key]} ignored)`);
  }
  if (said.length === 0) return;
  options.log.warn({ runId: plan.runId, ignored }, `resuming run ${plan.runId} with the settings of its checkpoint: ${said.join(', ')}`);
}

function checkShards(shards: readonly ShardManifest[], model: Autoencoder): void {
  const [height, width] = croppedShape(model.config);
  for (const shard of shards) {
    if (shard.height !== height || shard.width !== width) throw new Error(`shard ${shard.id} holds ${shard.height} x ${shard.width} fields, the model takes ${height} x ${width}`);
    if (!sameNormalization(shard.normalization, model.normalization)) {
      throw new Error(`shard ${shard.id} was normalized with ${JSON.stringify(shard.normalization)}, the model with ${JSON.stringify(model.normalization)}`);
    }
  }
}

function sameNormalization(a: NormalizationConfig, b: NormalizationConfig): boolean {
  return (['missingValue', 'clipMin', 'clipMax', 'scale'] as const).every((key) => a[key] === b[key]);
}

async function train(options: RetrainOptions, run: Run): Promise<void> {
  const { plan, model } = run;
  if (run.step >= plan.steps) return;
  const shuffle = { seed: plan.seed, interleave: plan.interleave, bufferSize: plan.bufferSize };
  const batches = trainingBatches(shuffledRows(options.shards, run.shards.train, shuffle, run.position), plan.batchSize, croppedShape(plan.config));
  const started = Date.now();
  const startStep = run.step;
  try {
    for await (const { batch, after } of batches) {
      let loss;
      try {
        loss = await trainStep(model, batch);
      } finally {
        batch.dispose();
      }
      run.step++;
      run.position = after;
      run.trainLoss.push(loss);
      const rate = (run.step - startStep) / Math.max((Date.now() - started) / 1000, 1e-3);
      options.onProgress?.({ step: run.step, steps: plan.steps, loss, rate, etaSeconds: (plan.steps - run.step) / rate });
      const last = run.step >= plan.steps;
      const stopping = options.signal?.aborted === true;
      if (last || stopping || run.step % plan.stepsPerCheckpoint === 0) await checkpoint(options, run);
      if (stopping && !last) throw new RunInterrupted(run.step);
      if (last) return;
    }
  } finally {
    await batches.return(undefined);
  }
}

async function checkpoint(options: RetrainOptions, run: Run): Promise<void> {
  await options.confirmLease?.();
  const { errors } = await evaluateHeldOut([run.model], options.shards, run.shards.heldOut, run.plan.batchSize);
  const heldOutLoss = mean(errors[0]!);
  run.heldOutLoss.push({ step: run.step, loss: heldOutLoss });
  run.checkpoint = await saveCheckpoint(options.models, run.model, { plan: run.plan, step: run.step, position: run.position, trainLoss: run.trainLoss, heldOutLoss: run.heldOutLoss });
  const trainLoss = run.trainLoss.at(-1)!;
  options.log.info({ runId: run.plan.runId, step: run.step, trainLoss, heldOutLoss }, 'checkpoint');
  options.onCheckpoint?.({ step: run.step, trainLoss, heldOutLoss });
}

/** Candidate against the version promoted now, on the same held-out fields; save it, and decide whether to promote it (better or forced). */
async function judge(options: RetrainOptions, run: Run): Promise<RunOutcome & { against: string | null }> {
  const { models } = options;
  const { plan, model: candidate } = run;
  // A forced run stays forced when resumed (by a trainer that no longer has the request that forced it).
  const force = options.force || plan.force === true;
  const promoted = await promotedVersion(models);
  const current = promoted === undefined ? undefined : (await loadVersion(models, promoted)).model;
  try {
    // The held-out rows were normalized for the candidate: a version of another normalization would be judged on rows it was never meant to read.
    const comparable = current !== undefined && croppedShape(current.config).join() === croppedShape(candidate.config).join() && sameNormalization(current.normalization, candidate.normalization);
    const { errors, stormiest } = await evaluateHeldOut(comparable ? [candidate, current] : [candidate], options.shards, run.shards.heldOut, plan.batchSize);
    const candidateLoss = mean(errors[0]!);
    const currentLoss = comparable ? mean(errors[1]!) : null;
    const alertThreshold = quantile(errors[0]!, options.thresholdQuantile);
    // A diverged run (NaN or Infinity) is never promoted, not even forced: no consumer could use it.
    const finite = Number.isFinite(candidateLoss);
    // Running consumers keep serving what they have rather than swap in another architecture: promoted only when forced, as by `model promote --force`.
    const unswappable = current === undefined ? undefined : differingSetting(current, candidate);
    // Named before it is saved: a run stopped while saving it removes it, whole or not, when run again.
    const modelId = newVersionId();
    const better = finite && (current === undefined || (currentLoss !== null && candidateLoss < currentLoss));
    const promote = (better && unswappable === undefined) || (finite && force);
    const reason =
      !finite ? `held-out loss ${candidateLoss} is not finite (the run diverged): saved, not promoted`
      : current === undefined ? 'no version was promoted'
      : currentLoss === null ? `the promoted version ${promoted} takes fields of another shape or normalization: not comparable${force ? ', promoted because forced' : ''}`
      : unswappable !== undefined ? `the candidate has another ${unswappable.setting} than the promoted ${promoted} (${unswappable.how}), which running consumers do not swap in${force ? ': promoted because forced (restart the consumers)' : `: saved, not promoted (held-out loss ${candidateLoss.toPrecision(4)} against ${currentLoss.toPrecision(4)}; model promote ${modelId} --force, then restart the consumers)`}`
      : better ? `held-out loss ${candidateLoss.toPrecision(4)} is below the promoted ${promoted}'s ${currentLoss.toPrecision(4)}`
      : `held-out loss ${candidateLoss.toPrecision(4)} is not below the promoted ${promoted}'s ${currentLoss.toPrecision(4)}${force ? ': promoted because forced' : ': saved, not promoted'}`;
    const trainShards = await trainingRange(options.shards, plan);
    const attachments: Record<string, { bytes: Uint8Array; contentType: string }> = { 'loss.png': { bytes: lossCurvePicture(run.trainLoss, run.heldOutLoss), contentType: 'image/png' } };
    if (stormiest) attachments['before-after.png'] = { bytes: await beforeAfter(stormiest, comparable ? current : undefined, candidate), contentType: 'image/png' };
    const finalTrainLoss = run.trainLoss.at(-1) ?? NaN;
    // A trainer that lost the lease while judging would leave a version that no run records: the one that took over trains its own.
    await options.confirmLease?.();
    await writePointer(models, plan.runId, { step: run.step, checkpoint: run.checkpoint, saving: modelId });
    const manifest = await saveVersion(models, candidate, {
      modelId,
      trainingData: trainShards,
      metrics: {
        heldOutLoss: candidateLoss,
        ...(currentLoss !== null && { promotedHeldOutLoss: currentLoss }),
        heldOutFields: errors[0]!.length,
        steps: run.step,
        finalTrainLoss,
        batchSize: plan.batchSize,
        learningRate: plan.learningRate,
        thresholdQuantile: options.thresholdQuantile,
      },
      alertThreshold,
      attachments,
    });
    return { modelId: manifest.modelId, promoted: promote, reason, candidateLoss, currentLoss, alertThreshold, steps: run.step, finalTrainLoss, against: promoted ?? null };
  } finally {
    if (current) disposeAutoencoder(current);
  }
}

/**
 * Promotes and announces a judged candidate when so decided, and marks the run finished. Done
 * again after a stop part way, it promotes only while the version judged against (or the
 * candidate itself) is still the promoted one: a version promoted since is not overruled.
 */
async function conclude(options: RetrainOptions, pointer: RunPointer, judged: RunOutcome & { against: string | null }): Promise<RunOutcome> {
  const { models, runId, log } = options;
  const { against, ...outcome } = judged;
  if (outcome.promoted) {
    await options.confirmLease?.();
    let reads = 0;
    const promotion = await promoteVersion(models, outcome.modelId, '', (now) => {
      if (now instanceof Error) throw now;
      const promotedNow = now?.modelId ?? null;
      if (++reads > 1) log.warn({ runId, modelId: outcome.modelId, promoted: promotedNow }, 'promoted.json was written by another between this run\'s read of it and its write: decided again on what it holds now');
      return promotedNow === against || promotedNow === outcome.modelId ? undefined : `${promotedNow} was promoted meanwhile`;
    });
    if ('refused' in promotion) {
      outcome.promoted = false;
      outcome.reason = `${outcome.reason}; but ${promotion.refused}: saved, not promoted`;
    } else await options.announce?.(promotionAnnouncement(models, await readManifest(models, outcome.modelId)));
  }
  log.info({ runId, modelId: outcome.modelId, promoted: outcome.promoted, candidateLoss: outcome.candidateLoss, currentLoss: outcome.currentLoss, alertThreshold: outcome.alertThreshold }, outcome.promoted ? `version promoted: ${outcome.reason}` : `version not promoted: ${outcome.reason}`);
  // Before the run is recorded finished: nothing resumes a finished run, so nothing would delete what a stop here left.
  await deleteCheckpoints(models, runId);
  await writePointer(models, runId, { step: pointer.step, checkpoint: pointer.checkpoint, finished: outcome });
  return outcome;
}

/** The valid times the training shards cover and how many fields they hold. */
async function trainingRange(catalog: ShardCatalog, plan: RunPlan): Promise<{ from: string; to: string; fields: number }> {
  const ids = new Set(plan.train);
  const shards = (await catalog.list({ field: plan.field, from: new Date(plan.from), to: new Date(plan.to) })).filter((shard) => ids.has(shard.id));
  const from = shards.map((shard) => shard.from).sort()[0] ?? plan.from;
  const to = shards.map((shard) => shard.to).sort().at(-1) ?? plan.to;
  return { from, to, fields: shards.reduce((sum, shard) => sum + shard.count, 0) };
}

/** A held-out field, its reconstruction by the promoted version (when comparable) and by the candidate. */
async function beforeAfter(row: ShardRow, before: Autoencoder | undefined, after: Autoencoder): Promise<Uint8Array> {
  const panels = [{ values: row.values, kind: 'echo' as const }];
  if (before) panels.push({ values: await reconstruct(before, row), kind: 'echo' });
  panels.push({ values: await reconstruct(after, row), kind: 'echo' });
  return sideBySide(row.height, row.width, panels, row.width > 256 ? 4 : 1);
}
