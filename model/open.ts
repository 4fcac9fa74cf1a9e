import type { StageLogger } from '../stages/stage.js';
import { ObjectNotFoundError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { createAutoencoder, UNTRAINED, type Autoencoder } from './autoencoder.js';
import { listVersions, loadVersion, previouslyPromoted, promotedVersion, readManifest, type ModelManifest } from './versions.js';

export interface OpenedModel {
  model: Autoencoder;
  /** Where its versions live ("untrained" for the fresh seed model): the model line embeddings name. */
  id: string;
  /** The version's manifest; absent for the fresh seed model. */
  manifest?: ModelManifest;
  /** Set when the promoted version could not be loaded and an earlier one was (`fallBack`): which, and why. */
  notPromoted?: { promoted: string; reason: string };
}

/**
 * The model a command runs: the promoted version (or `version`) in the model store `store`,
 * or, with no store or nothing promoted there yet, a fresh model of the seed configuration with fixed seeds,
 * whose embeddings mean nothing yet (said in the log, and by its version "untrained").
 * With `fallBack` (a consumer following the store), a promoted version that cannot be loaded gives
 * way to the most recently promoted earlier one that can, and `notPromoted` says so.
 */
export async function openModel(store: ObjectStore | undefined, version: string | undefined, log: StageLogger, { fallBack = false } = {}): Promise<OpenedModel> {
  if (store === undefined) {
    log.warn({ modelVersion: UNTRAINED }, 'no --model: using a freshly initialised model of the seed configuration; its embeddings mean nothing yet');
    return { model: createAutoencoder(), id: UNTRAINED };
  }
  const promoted = version === undefined ? await promotedVersion(store) : undefined;
  if (version === undefined && promoted === undefined) {
    // A deployment's first start, before the first training: the seed model until a version is promoted.
    log.warn({ models: store.url, modelVersion: UNTRAINED }, 'no model version is promoted yet: using a freshly initialised model of the seed configuration until one is');
    return { model: createAutoencoder(), id: store.url };
  }
  try {
    const { model, manifest } = await loadVersion(store, version ?? promoted);
    log.info({ modelVersion: manifest.modelId, createdAt: manifest.createdAt, trainingData: manifest.trainingData }, 'model loaded');
    return { model, id: store.url, manifest };
  } catch (error) {
    if (version !== undefined && error instanceof ObjectNotFoundError) await refuseUnknownVersion(store, version, error);
    if (promoted === undefined || !fallBack) throw error;
    return loadEarlierThan(store, promoted, error, log);
  }
}

/** A pinned version whose manifest is missing: refused naming the versions there are, rather than the missing object. */
async function refuseUnknownVersion(store: ObjectStore, version: string, missing: ObjectNotFoundError): Promise<void> {
  const versions = await listVersions(store);
  if (versions.includes(version)) return;
  const known = versions.length === 0 ? 'it has none' : `its versions: ${versions.slice(-5).join(', ')}${versions.length > 5 ? ` and ${versions.length - 5} older` : ''}`;
  throw new Error(`no model version ${version} in ${store.url} (${known}; hrrr-embed model list --models ${store.url} lists them)`, { cause: missing });
}

/**
 * The most recently promoted version before `promoted`, which failed to load (`failure`: weights
 * missing or damaged), that loads: a consumer starting beside others that still serve an earlier
 * version serves one too, rather than fail its start; the seed model when none was promoted before.
 * Fails when none loads. A promoted.json written before promotions were remembered gives the
 * versions made before `promoted` instead.
 */
async function loadEarlierThan(store: ObjectStore, promoted: string, failure: unknown, log: StageLogger): Promise<OpenedModel> {
  const reason = failure instanceof Error ? failure.message : String(failure);
  const earlier = (await previouslyPromoted(store)) ?? (await versionsMadeBefore(store, promoted));
  if (earlier.length === 0) {
    // The first version promoted: the consumers that ran before it serve the seed model still.
    log.warn({ err: failure, promoted, modelVersion: UNTRAINED }, `promoted model version ${promoted} cannot be loaded (${reason}), and none was promoted before it: using a freshly initialised model of the seed configuration until a version that loads is promoted`);
    return { model: createAutoencoder(), id: store.url, notPromoted: { promoted, reason } };
  }
  for (const version of earlier) {
    try {
      const { model, manifest } = await loadVersion(store, version);
      log.warn(
        { err: failure, promoted, modelVersion: version, createdAt: manifest.createdAt },
        `promoted model version ${promoted} cannot be loaded (${reason}): serving ${version}, the most recent earlier version that loads, until a version that loads is promoted`,
      );
      return { model, id: store.url, manifest, notPromoted: { promoted, reason } };
    } catch (error) {
      log.warn({ err: error, modelVersion: version }, `model version ${version} cannot be loaded either: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`promoted model version ${promoted} cannot be loaded (${reason}), nor any earlier version (${earlier.length} tried)`, { cause: failure });
}

/**
 * The complete versions made before `version`, newest first, by their manifests' creation time
 * (ids are free-form). When `version`'s own manifest is unreadable, every other version; one
 * whose manifest is unreadable comes last (loading it fails, and says why).
 */
export async function versionsMadeBefore(store: ObjectStore, version: string): Promise<string[]> {
  const createdAt = async (id: string) => Date.parse((await readManifest(store, id)).createdAt);
  const known = (time: number, otherwise: number) => (Number.isNaN(time) ? otherwise : time);
  const before = known(await createdAt(version).catch(() => NaN), Infinity);
  const made: { id: string; time: number }[] = [];
  for (const id of await listVersions(store)) {
    if (id === version) continue;
    const time = known(await createdAt(id).catch(() => NaN), -Infinity);
    if (time < before) made.push({ id, time });
  }
  return made.sort((a, b) => b.time - a.time).map(({ id }) => id);
}
