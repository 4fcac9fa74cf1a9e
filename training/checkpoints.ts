/**
 * Checkpoints of a training run in the model store, under training/RUN_ID/: each checkpoint
 * checkpoints/STEP/ holds the weights (model.json, weights.bin: the tfjs format), the Adam
 * optimizer's state (optimizer.bin: its step count and both moments) and state.json (the step, the
 * stream's position, the shards, the loss history). training/RUN_ID/latest.json, written last,
 * names the checkpoint to resume from, so a crash while writing one leaves the previous one in
 * force; the others are deleted only after the pointer has moved.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ObjectNotFoundError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { withSharedModels, type Autoencoder } from '../model/autoencoder.js';
import type { ModelConfig, NormalizationConfig } from '../model/config.js';
import { objectStoreIO } from '../model/store-io.js';
import type { StreamPosition } from './batches.js';

/** A tensor with its name, as tfjs optimizers give and take their state. */
type NamedTensor = { name: string; tensor: tf.Tensor };

export const CHECKPOINT_FORMAT = 'hrrr-embed-checkpoint/1';

/** What a run is, fixed when it starts: a resumed run reads it back rather than choosing again. */
export interface RunPlan {
  runId: string;
  field: string;
  from: string;
  to: string;
  /** Shard ids, by role: the same shards whatever arrives in the store meanwhile. */
  train: string[];
  heldOut: string[];
  /** The version training started from, or "fresh". */
  startedFrom: string;
  config: ModelConfig;
  normalization: NormalizationConfig;
  learningRate: number;
  batchSize: number;
  steps: number;
  stepsPerCheckpoint: number;
  seed: number;
  interleave: number;
  bufferSize: number;
  /** Promote the candidate even when worse: asked for when the run started (absent in checkpoints of before it was kept). */
  force?: boolean;
}

export interface RunState {
  format: typeof CHECKPOINT_FORMAT;
  plan: RunPlan;
  /** Training steps done. */
  step: number;
  position: StreamPosition;
  /** The loss of every step, in order. */
  trainLoss: number[];
  /** Mean held-out loss at each checkpoint. */
  heldOutLoss: Array<{ step: number; loss: number }>;
  /** How optimizer.bin is laid out (tfjs weight specs). */
  optimizerSpecs: tf.io.WeightsManifestEntry[];
}

/** Where a run stands: its latest checkpoint (deleted once the run is finished), and once it is over, what became of it. */
export interface RunPointer {
  step: number;
  checkpoint: string;
  /**
   * The candidate, saved and judged against `against` (the version promoted then, or null), set
   * before it is promoted: a run stopped after that promotes and announces it rather than train
   * and save again.
   */
  judged?: RunOutcome & { against: string | null };
  /**
   * The id the candidate is being saved under, set before it is saved and until it is judged: a
   * run stopped in between removes that version, whole or not, and saves its candidate again,
   * rather than leave a version no run records.
   */
  saving?: string;
  finished?: RunOutcome;
}

export interface RunOutcome {
  modelId: string;
  promoted: boolean;
  reason: string;
  candidateLoss: number;
  currentLoss: number | null;
  alertThreshold: number;
  steps: number;
  finalTrainLoss: number;
}

const runPrefix = (runId: string) => `training/${runId}/`;
const pointerKey = (runId: string) => `${runPrefix(runId)}latest.json`;

export async function readPointer(store: ObjectStore, runId: string): Promise<RunPointer | undefined> {
  try {
    return JSON.parse(new TextDecoder().decode(await store.get(pointerKey(runId)))) as RunPointer;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

export async function writePointer(store: ObjectStore, runId: string, pointer: RunPointer): Promise<void> {
  await store.put(pointerKey(runId), json(pointer), { contentType: 'application/json' });
}

/** Writes a checkpoint of the model being trained (compiled, so with its optimizer), moves the pointer to it and gives its prefix. */
export async function saveCheckpoint(store: ObjectStore, model: Autoencoder, state: Omit<RunState, 'format' | 'optimizerSpecs'>): Promise<string> {
  const { runId } = state.plan;
  const at = `${runPrefix(runId)}checkpoints/${String(state.step).padStart(9, '0')}/`;
  const weights = await model.croppedAutoencoder.optimizer.getWeights();
  // Adam's moments are its own variables; its step count is a tensor made for each call.
  const made = weights.map(({ tensor }) => tensor).filter((tensor) => !(tensor instanceof tf.Variable));
  const { data, specs } = await tf.io.encodeWeights(weights).finally(() => tf.dispose(made));
  await model.autoencoder.save(objectStoreIO(store, at));
  await store.put(`${at}optimizer.bin`, new Uint8Array(data), { contentType: 'application/octet-stream' });
  const full: RunState = { format: CHECKPOINT_FORMAT, ...state, optimizerSpecs: specs };
  await store.put(`${at}state.json`, json(full), { contentType: 'application/json' });
  await writePointer(store, runId, { step: state.step, checkpoint: at });
  await deleteCheckpoints(store, runId, at);
  return at;
}

/**
 * Deletes the run's checkpoints but `keep`: the earlier ones once a new one is written, all of them
 * once the run is finished (its version is saved; a run a day would otherwise keep its weights and
 * Adam's state, three times the model, every day). Every one, not only the one a pointer named: a
 * run killed while deleting one, or while writing one no pointer named yet, left objects behind.
 */
export async function deleteCheckpoints(store: ObjectStore, runId: string, keep?: string): Promise<void> {
  for await (const { key } of store.list(`${runPrefix(runId)}checkpoints/`)) if (keep === undefined || !key.startsWith(keep)) await store.delete(key);
}

/** The run's latest checkpoint: its state and its model, with weights only (compile it, then `restoreOptimizer`). */
export async function loadCheckpoint(store: ObjectStore, pointer: RunPointer): Promise<{ state: RunState; model: Autoencoder; optimizer: NamedTensor[] }> {
  const at = pointer.checkpoint;
  const state = await readState(store, at);
  // Read before the weights become tensors: a checkpoint missing its optimizer state leaves none behind.
  const bytes = await store.get(`${at}optimizer.bin`);
  const autoencoder = await tfl.loadLayersModel(objectStoreIO(store, at));
  try {
    const model = withSharedModels(autoencoder, state.plan.config, state.plan.normalization, `${state.plan.runId}@${state.step}`);
    const tensors = tf.io.decodeWeights(bytes.slice().buffer as ArrayBuffer, state.optimizerSpecs);
    // Adam matches its moments to the model's weights by position: keep the saved order.
    return { state, model, optimizer: state.optimizerSpecs.map(({ name }) => ({ name, tensor: tensors[name]! })) };
  } catch (error) {
    for (const weight of autoencoder.weights) weight.dispose();
    throw error;
  }
}

async function readState(store: ObjectStore, checkpoint: string): Promise<RunState> {
  const state = JSON.parse(new TextDecoder().decode(await store.get(`${checkpoint}state.json`))) as RunState;
  if (state.format !== CHECKPOINT_FORMAT) throw new Error(`checkpoint ${checkpoint}: unknown format ${JSON.stringify(state.format)}`);
  return state;
}

/** Puts a checkpoint's Adam state (step count and moments) into the freshly compiled model's optimizer. */
export async function restoreOptimizer(model: Autoencoder, weights: NamedTensor[]): Promise<void> {
  await model.croppedAutoencoder.optimizer.setWeights(weights);
  tf.dispose(weights.map(({ tensor }) => tensor));
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(value)}\n`);
}

/** Runs with a checkpoint but no outcome: stopped or crashed, to resume with their run id. */
export async function unfinishedRuns(store: ObjectStore): Promise<string[]> {
  return (await runRecords(store)).unfinished;
}

/**
 * The runs' records, read once: the runs not finished, and when the last finished run's record was
 * written (its candidate saved and judged), if any.
 */
export async function runRecords(store: ObjectStore): Promise<{ unfinished: string[]; lastFinishedAt?: Date }> {
  const unfinished: string[] = [];
  let lastFinishedAt: Date | undefined;
  for await (const { key, lastModified } of store.list('training/')) {
    const match = /^training\/([^/]+)\/latest\.json$/.exec(key);
    if (!match) continue;
    if (!(await readPointer(store, match[1]!))?.finished) unfinished.push(match[1]!);
    else if (!lastFinishedAt || lastModified > lastFinishedAt) lastFinishedAt = lastModified;
  }
  return { unfinished, ...(lastFinishedAt && { lastFinishedAt }) };
}

/**
 * The shard ids that unfinished runs planned on: a run resumes only with every one of them there.
 * A judged run reads no shard more (and its checkpoint may be deleted already).
 */
export async function shardsOfUnfinishedRuns(store: ObjectStore): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const runId of await unfinishedRuns(store)) {
    const pointer = await readPointer(store, runId);
    if (!pointer || pointer.judged) continue;
    const { plan } = await readState(store, pointer.checkpoint);
    for (const id of [...plan.train, ...plan.heldOut]) ids.add(id);
  }
  return ids;
}
