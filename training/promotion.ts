/**
 * What an operator does to a model store by hand (`hrrr-embed model list | promote | rollback`):
 * see its versions, promote one, or undo promotions; each checked first as a running consumer
 * would check it, so that what is promoted loads and can be swapped in without a restart.
 */
import { disposeAutoencoder } from '../model/autoencoder.js';
import { modelConfig, normalizationConfig } from '../model/config.js';
import { failedReadOfPromoted, listVersions, loadVersion, MalformedPromoted, previouslyPromoted, promotedVersion, promoteVersion, readManifest, readPromoted, rollBackTo, VersionBeingDeleted, type ModelManifest } from '../model/versions.js';
import { differingSetting } from '../pipelines/model-slot.js';
import type { ObjectStore } from '../store/object-store.js';

/** A version as `model list` prints it; `error` instead of the manifest's details when its manifest is unreadable. */
export interface VersionListing {
  modelId: string;
  createdAt?: string;
  trainingData?: ModelManifest['trainingData'];
  metrics?: ModelManifest['metrics'];
  alertThreshold?: number | null;
  parameters?: number;
  promoted: boolean;
  /** Among the versions promoted before the current one: those a consumer falls back to, and a rollback goes back to. */
  previouslyPromoted: boolean;
  error?: string;
}

/** The complete versions, newest first (by the manifests' createdAt); `promoted` is false everywhere when promoted.json is unreadable (`promotedError`). */
export async function describeVersions(models: ObjectStore): Promise<{ versions: VersionListing[]; promotedError?: string }> {
  let promoted: string | undefined;
  let previous: string[] = [];
  let promotedError: string | undefined;
  try {
    promoted = await promotedVersion(models);
    previous = (await previouslyPromoted(models)) ?? [];
  } catch (error) {
    promotedError = (error as Error).message;
  }
  const versions = await Promise.all(
    (await listVersions(models)).map(async (modelId): Promise<VersionListing> => {
      const marks = { promoted: modelId === promoted, previouslyPromoted: previous.includes(modelId) };
      try {
        const { createdAt, trainingData, metrics, alertThreshold, parameters } = await readManifest(models, modelId);
        return { modelId, createdAt, trainingData, metrics, alertThreshold, parameters, ...marks };
      } catch (error) {
        return { modelId, ...marks, error: (error as Error).message };
      }
    }),
  );
  versions.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.modelId.localeCompare(a.modelId));
  return { versions, ...(promotedError !== undefined && { promotedError }) };
}

/** A promotion the store refuses as asked (an unknown or broken version, another architecture...): the message says what and why. */
export class PromotionRefused extends Error {
  override readonly name = 'PromotionRefused';
}

export interface PromotionOptions {
  /** Promote even what running consumers cannot swap in, or over a malformed promoted.json (not over one the store failed to read). */
  force: boolean;
}

export interface Promotion {
  manifest: ModelManifest;
  /** The version promoted before, if one was (and readable). */
  replaced: string | null;
  /** promoted.json's `previous` afterwards. */
  previous: string[];
}

/** Promotes a complete version that loads and that running consumers can swap in (unless `force`). */
export async function promoteChecked(models: ObjectStore, modelId: string, { force }: PromotionOptions): Promise<Promotion> {
  await requireComplete(models, modelId);
  const reason = await whyNotLoadable(models, modelId);
  if (reason !== undefined) throw new PromotionRefused(`model version ${modelId} cannot be loaded: ${reason}`);
  const replaced = await currentlyPromoted(models, force);
  const manifest = await readManifest(models, modelId);
  await requireSwappable(models, manifest, replaced, force);
  // The checks hold against `replaced`: a version promoted since (a trainer concluding its run, another operator) is not overruled unchecked.
  const promotion = await promoteVersion(models, modelId, '', (now) => {
    const promotedNow = now instanceof Error ? undefined : now?.modelId;
    if (promotedNow === replaced || promotedNow === modelId) return undefined;
    return `${models.url}/promoted.json changed while ${modelId} was checked: ${promotedNow ?? 'no version'} is promoted now, not ${replaced ?? 'none'}; nothing promoted (model promote ${modelId} again checks it against ${promotedNow ?? 'none'})`;
  }).catch((error: Error) => {
    throw error instanceof VersionBeingDeleted ? new PromotionRefused(error.message) : error;
  });
  if ('refused' in promotion) throw new PromotionRefused(promotion.refused);
  return { manifest, replaced: replaced ?? null, previous: promotion.written.previous ?? [] };
}

/**
 * Rolls back to the most recent of the versions promoted before that loads, forgetting those
 * after it (see rollBackTo); `skipped` says which were passed over, and why.
 */
export async function rollBack(models: ObjectStore, { force }: PromotionOptions): Promise<Promotion & { skipped: Array<{ modelId: string; reason: string }> }> {
  // Read whole, its deletion marks too (rollBackTo refuses a promoted.json it cannot read all of).
  const promoted = await readPromoted(models).catch((error: Error) => {
    throw new PromotionRefused(`cannot roll back: ${error instanceof MalformedPromoted ? error.message : failedReadOfPromoted(models, error, 'nothing is rolled back')}`);
  });
  if (promoted === undefined) throw new PromotionRefused(`cannot roll back: no model version is promoted in ${models.url}`);
  const { modelId: current, previous } = promoted;
  if (previous === undefined) throw new PromotionRefused(`cannot roll back: ${models.url}/promoted.json was written before it remembered the versions promoted before ${current}: promote the one to go back to with model promote ID`);
  if (previous.length === 0) throw new PromotionRefused(`cannot roll back: no version was promoted in ${models.url} before ${current}`);
  const skipped: Array<{ modelId: string; reason: string }> = [];
  for (const modelId of previous) {
    const reason = (await listVersions(models)).includes(modelId) ? await whyNotLoadable(models, modelId) : 'no longer in the store (no manifest.json)';
    if (reason === undefined) {
      const manifest = await readManifest(models, modelId);
      await requireSwappable(models, manifest, current, force);
      const after = await rollBackTo(models, modelId, current).catch((error: Error) => {
        throw new PromotionRefused(`cannot roll back: ${error.message}`);
      });
      return { manifest, replaced: current, previous: after.previous ?? [], skipped };
    }
    skipped.push({ modelId, reason });
  }
  throw new PromotionRefused(`cannot roll back: none of the versions promoted before ${current} loads: ${skipped.map(({ modelId, reason }) => `${modelId}: ${reason}`).join('; ')}`);
}

async function requireComplete(models: ObjectStore, modelId: string): Promise<void> {
  const versions = await listVersions(models);
  if (versions.includes(modelId)) return;
  for await (const _ of models.list(`versions/${modelId}/`)) throw new PromotionRefused(`model version ${modelId} in ${models.url} is incomplete: it has no manifest.json (its saving did not finish)`);
  const known = versions.length === 0 ? 'it has none' : `its versions: ${versions.slice(-5).join(', ')}${versions.length > 5 ? ` and ${versions.length - 5} older` : ''}`;
  throw new PromotionRefused(`no model version ${modelId} in ${models.url} (${known})`);
}

/** Why a version does not load as a consumer would load it (manifest, model.json, the weights' size and checksum); undefined when it does. */
async function whyNotLoadable(models: ObjectStore, modelId: string): Promise<string | undefined> {
  try {
    disposeAutoencoder((await loadVersion(models, modelId)).model);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * The promoted version. A malformed promoted.json (its deletion marks too) refuses the promotion
 * unless `force`, since its `previous` would be lost; a read that failed refuses it even so: the
 * file may be sound, and only the store at fault.
 */
async function currentlyPromoted(models: ObjectStore, force: boolean): Promise<string | undefined> {
  try {
    return (await readPromoted(models))?.modelId;
  } catch (error) {
    if (!(error instanceof MalformedPromoted)) throw new PromotionRefused(failedReadOfPromoted(models, error, 'nothing is promoted'), { cause: error });
    if (force) return undefined;
    throw new PromotionRefused(`${(error as Error).message}: promoting over it would forget the versions promoted before (its "previous"); --force promotes anyway`);
  }
}

/** Refuses (unless `force`) a version that running consumers, serving `current`, would refuse to swap in. */
async function requireSwappable(models: ObjectStore, next: ModelManifest, current: string | undefined, force: boolean): Promise<void> {
  if (current === undefined || current === next.modelId || force) return;
  let served: ModelManifest;
  try {
    served = await readManifest(models, current);
  } catch {
    return; // consumers cannot be serving a version whose manifest is unreadable: nothing to compare with
  }
  const settings = (manifest: ModelManifest) => ({ config: modelConfig(manifest.hyperparameters), normalization: normalizationConfig(manifest.normalization) });
  const difference = differingSetting(settings(served), settings(next));
  if (!difference) return;
  throw new PromotionRefused(
    `model version ${next.modelId} has another ${difference.setting} than the promoted ${current} (${difference.how}): running consumers would keep serving ${current} until restarted; --force promotes it anyway`,
  );
}
