/**
 * Model versions in an object store. Each version is immutable, under PREFIX versions/ID/:
 * model.json and weights.bin (the tfjs format, see store-io.ts), then manifest.json, written
 * last: a version without a manifest is incomplete and is not listed; attachments (the training's
 * loss curve and pictures) go beside them, before the manifest. PREFIX promoted.json names
 * the version the pipeline uses.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as tfl from '@tensorflow/tfjs-layers';
import { ObjectChangedError, ObjectExistsError, ObjectNotFoundError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { withSharedModels, type Autoencoder } from './autoencoder.js';
import { croppedShape, modelConfig, normalizationConfig, type ModelConfig, type NormalizationConfig } from './config.js';
import { objectStoreIO, readJson } from './store-io.js';

const MANIFEST_FORMAT = 'hrrr-embed-model/1';

export interface ModelManifest {
  format: typeof MANIFEST_FORMAT;
  modelId: string;
  createdAt: string;
  hyperparameters: ModelConfig;
  normalization: NormalizationConfig;
  parameters: number;
  /** The analyses it was trained on (valid times, inclusive), or null when never trained. */
  trainingData: { from: string; to: string; fields: number } | null;
  metrics: Record<string, number>;
  /** Reconstruction error above which a field is unlike what the model knows; null when not set. */
  alertThreshold: number | null;
}

export interface SaveDetails {
  /** The version's id; by default the creation time and 8 random hex digits, e.g. 20261124T081500Z-1a2b3c4d. */
  modelId?: string;
  trainingData?: ModelManifest['trainingData'];
  metrics?: Record<string, number>;
  alertThreshold?: number | null;
  /** More objects kept with the version (e.g. "loss.png"), written before the manifest. */
  attachments?: Record<string, { bytes: Uint8Array; contentType: string }>;
  /** The clock, for tests. */
  now?: Date;
}

/** A version that exists already: versions are never overwritten. */
export class VersionExistsError extends Error {
  override readonly name = 'VersionExistsError';
}

const VERSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const versionPrefix = (prefix: string, id: string) => `${prefix}versions/${id}/`;
const PROMOTED = 'promoted.json';

/** Saves the model as a new version and returns its manifest. */
export async function saveVersion(store: ObjectStore, model: Autoencoder, details: SaveDetails = {}, prefix = ''): Promise<ModelManifest> {
  const createdAt = details.now ?? new Date();
  const modelId = details.modelId ?? newVersionId(createdAt);
  if (!VERSION_ID.test(modelId)) throw new Error(`model version id ${JSON.stringify(modelId)}: letters, digits, ".", "_" and "-" only`);
  const at = versionPrefix(prefix, modelId);
  if (await anyObjectUnder(store, at)) throw new VersionExistsError(`model version ${modelId} exists in ${store.url}`);
  await model.autoencoder.save(objectStoreIO(store, at));
  for (const [name, { bytes, contentType }] of Object.entries(details.attachments ?? {})) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name === 'manifest.json' || name === 'model.json' || name === 'weights.bin') throw new Error(`attachment ${JSON.stringify(name)}: a plain file name other than the model's own`);
    await store.put(at + name, bytes, { contentType });
  }
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT,
    modelId,
    createdAt: createdAt.toISOString(),
    hyperparameters: model.config,
    normalization: model.normalization,
    parameters: model.autoencoder.countParams(),
    trainingData: details.trainingData ?? null,
    metrics: details.metrics ?? {},
    alertThreshold: details.alertThreshold ?? null,
  };
  await store.put(`${at}manifest.json`, json(manifest), { contentType: 'application/json' });
  return manifest;
}

/** A new version's id: the time and 8 random hex digits, e.g. 20261124T081500Z-1a2b3c4d. */
export function newVersionId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]|\.\d+/g, '')}-${randomBytes(4).toString('hex')}`;
}

/** Removes a version, complete or not: its manifest first, so that it is never listed with objects missing. */
export async function deleteVersion(store: ObjectStore, modelId: string, prefix = ''): Promise<void> {
  const at = versionPrefix(prefix, modelId);
  await store.delete(`${at}manifest.json`);
  for await (const { key } of store.list(at)) await store.delete(key);
}

/** How many of the versions promoted before the current one promoted.json remembers. */
const PROMOTIONS_REMEMBERED = 20;

/**
 * promoted.json: the promoted version, those promoted before it (most recent first; absent when
 * written before it remembered them), and the versions being deleted (by `model prune`, by a run
 * removing the candidate it stopped saving), if any, each with when and by whom it was marked: no
 * promotion names those, unless the mark is abandoned (isAbandoned). Each deleter adds its own and
 * removes only its own (markedAsBeingDeleted, unmarkedAsBeingDeleted), so that two at once keep
 * each other's. Released builds named one version, undated, as `deleting`: read as a mark first
 * seen now, and written as one, dated, by the next change.
 */
export interface Promoted {
  modelId: string;
  promotedAt?: string;
  previous?: string[];
  beingDeleted?: DeletionMark[];
}

/**
 * A version marked as being deleted, by whom (the deleter's host and process), and when (an ISO
 * time): `at` is absent only until the mark is written (changePromoted dates it then).
 */
export interface DeletionMark {
  modelId: string;
  at?: string;
  by: string;
}

/**
 * How old a mark is when it counts as abandoned: its deleter stopped (killed, or a delete refused)
 * between marking the version and deleting its manifest, which a live one does within seconds (a
 * conditional write, then one delete). An hour is far above that, through a store's retries and
 * throttling and the clocks of two hosts apart; a bound too long only delays by that much the
 * promotion of a version a stopped deleter marked and the operator keeps.
 */
const MARK_ABANDONED_AFTER_MS = 3_600_000;

const thisDeleter = `${hostname()} pid ${process.pid}`;

/** Who made a released build's mark (`deleting`); its `at` is when this build first wrote it back. */
const RELEASED_MARK_BY = 'a released build\'s "deleting", first seen';

/**
 * A promoted.json that was read but is none: not JSON, or a field wrong (a hand edit, a build's
 * other format). A promotion rewrites it (`model promote ID --force`). A read that failed (a
 * StoreError: refused, timed out, the store down) is not this: the object may be sound, and
 * rewriting it would lose its `previous` and its deletion marks.
 */
export class MalformedPromoted extends Error {
  override readonly name = 'MalformedPromoted';
}

/**
 * What a read of promoted.json that failed (any error but MalformedPromoted) says: its error, naming
 * the object, and that the store failed, not the file; `outcome` says what the caller did not do.
 */
export function failedReadOfPromoted(store: ObjectStore, error: unknown, outcome: string, prefix = ''): string {
  const message = error instanceof Error ? error.message : String(error);
  const where = `${store.url}/${prefix}${PROMOTED}`;
  return `${message.includes(PROMOTED) ? message : `${where}: ${message}`}: ${PROMOTED} could not be read (the store failed, which says nothing of the file), so ${outcome}; try again once the store answers`;
}

/** A version promoted.json names as being deleted (`beingDeleted`), by a mark not abandoned: promoting it is refused. */
export class VersionBeingDeleted extends Error {
  override readonly name = 'VersionBeingDeleted';
}

/** `promoted` marking `modelId` as being deleted by this process, dated when written. */
export function markedAsBeingDeleted(promoted: Promoted, modelId: string): Promoted {
  return { ...promoted, beingDeleted: [...marksBut(promoted, modelId), { modelId, by: thisDeleter }] };
}

/** `promoted` without the marks that `unmark` picks; undefined when it picks none (nothing to write). */
export async function unmarkedAsBeingDeleted(promoted: Promoted, unmark: (mark: DeletionMark) => boolean | Promise<boolean>): Promise<Promoted | undefined> {
  const { beingDeleted = [], ...rest } = promoted;
  const left: DeletionMark[] = [];
  for (const mark of beingDeleted) if (!(await unmark(mark))) left.push(mark);
  if (left.length === beingDeleted.length) return undefined;
  return left.length > 0 ? { ...rest, beingDeleted: left } : rest;
}

/** Whether a mark is MARK_ABANDONED_AFTER_MS old or more; one not yet dated is not. */
export function isAbandoned({ at }: DeletionMark, now = Date.now()): boolean {
  return at !== undefined && now - Date.parse(at) >= MARK_ABANDONED_AFTER_MS;
}

/** The marks of `promoted` but those of `modelId`. */
const marksBut = (promoted: Promoted | undefined, modelId: string) => (promoted?.beingDeleted ?? []).filter((mark) => mark.modelId !== modelId);

/** What a promotion of `modelId` keeps of the marks: all but that version's (abandoned, or refuseIfBeingDeleted would have refused). */
function marksKeptPromoting(before: Promoted | undefined, modelId: string): Pick<Promoted, 'beingDeleted'> {
  const kept = marksBut(before, modelId);
  return kept.length > 0 ? { beingDeleted: kept } : {};
}

function refuseIfBeingDeleted(store: ObjectStore, prefix: string, now: Promoted, modelId: string): void {
  const mark = now.beingDeleted?.find((marked) => marked.modelId === modelId);
  if (mark === undefined || isAbandoned(mark)) return;
  const hours = MARK_ABANDONED_AFTER_MS / 3_600_000;
  throw new VersionBeingDeleted(
    `model version ${modelId} is being deleted (${store.url}/${prefix}${PROMOTED} names it in "beingDeleted", marked by ${mark.by} ${mark.at !== undefined ? `at ${mark.at}` : 'now (model prune --delete writes the time)'}; a deletion stopped part way leaves it so: model prune --delete, or the trainer run again that was removing its candidate, finishes it; a mark ${hours} hour old counts as abandoned, and promoting the version then takes it out)`,
  );
}

/**
 * Tries of a change of promoted.json. Its writers are few and quick: one that never finds it as it
 * read it writes elsewhere than it reads (a store chain whose first store lacks it).
 */
const CHANGE_TRIES = 10;

/**
 * Rewrites promoted.json as `change` decides from what it holds now (undefined: none; an Error:
 * malformed, a MalformedPromoted; a read that fails throws): the promoted.json to write, or
 * undefined to leave it. The write is conditional on promoted.json still holding what was read:
 * when another writer came between (a trainer, an operator, a prune), `change` is asked again with
 * what that writer left, so no update is lost.
 * Returns what was written, or undefined.
 */
export async function changePromoted(store: ObjectStore, change: (now: Promoted | undefined | Error) => Promise<Promoted | undefined> | Promoted | undefined, prefix = ''): Promise<Promoted | undefined> {
  const key = prefix + PROMOTED;
  for (let tries = 1; ; tries++) {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await store.get(key);
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
    }
    let now: Promoted | undefined | Error;
    try {
      now = bytes && parsePromoted(store, prefix, bytes);
    } catch (error) {
      now = error as Error;
    }
    const next = await change(now);
    if (next === undefined) return undefined;
    const writtenAt = new Date().toISOString();
    const written: Promoted = {
      ...next,
      ...(next.previous !== undefined && { previous: next.previous.slice(0, PROMOTIONS_REMEMBERED) }),
      ...(next.beingDeleted !== undefined && { beingDeleted: next.beingDeleted.map(({ modelId, at = writtenAt, by }) => ({ modelId, at, by })) }),
    };
    try {
      await store.put(key, json(written), { contentType: 'application/json', ...(bytes ? { ifHolds: bytes } : { ifAbsent: true }) });
      return written;
    } catch (error) {
      if (!(error instanceof ObjectChangedError || error instanceof ObjectExistsError)) throw error;
      if (tries === CHANGE_TRIES) throw new Error(`${store.url}/${key}: changed by another writer at each of ${CHANGE_TRIES} tries to rewrite it; nothing written`, { cause: error });
    }
  }
}


/**
 * Points "promoted" at a complete version, remembering the versions promoted before it (most
 * recent first): what a consumer falls back to when the promoted one cannot be loaded. `unless`
 * is asked what promoted.json holds at each try (see changePromoted): a reason not to promote
 * after all, or undefined. Returns that reason, or what was written once promoted.
 */
export async function promoteVersion(store: ObjectStore, modelId: string, prefix = '', unless?: (now: Promoted | undefined | Error) => string | undefined): Promise<{ refused: string } | { written: Promoted }> {
  let refused: string | undefined;
  const written = await changePromoted(
    store,
    async (now) => {
      refused = unless?.(now);
      if (refused !== undefined) return undefined;
      const before = now instanceof Error ? undefined : now; // a damaged pointer is what a promotion repairs
      if (before !== undefined) refuseIfBeingDeleted(store, prefix, before, modelId);
      // After promoted.json is read: a version a prune deleted since, under an earlier mark, is found gone.
      await readManifest(store, modelId, prefix);
      const previous = before ? [...new Set([before.modelId, ...(before.previous ?? [])])].filter((id) => id !== modelId) : [];
      return { modelId, promotedAt: new Date().toISOString(), previous, ...marksKeptPromoting(before, modelId) };
    },
    prefix,
  );
  return written ? { written } : { refused: refused! };
}

/**
 * Undoes promotions: promotes `modelId`, one of the versions promoted before, and forgets those
 * promoted after it (the current one too), so that they are no fallback and a second rollback
 * goes further back rather than forward again. `from` is the version rolled back from: when
 * another was promoted meanwhile, the rollback is refused rather than undo that one. Returns
 * promoted.json as it is afterwards.
 */
export async function rollBackTo(store: ObjectStore, modelId: string, from: string, prefix = ''): Promise<Promoted> {
  let done: Promoted | undefined;
  const written = await changePromoted(
    store,
    async (now) => {
      if (now instanceof Error) throw now;
      if (now?.modelId === modelId) { // done: by a try of this write whose answer was lost, or by another rollback
        done = now;
        return undefined;
      }
      if (now?.modelId !== from) throw new Error(`${store.url}/${prefix}${PROMOTED} changed while rolling back from ${from}: ${now === undefined ? 'it is gone' : `${now.modelId} is promoted now`}; nothing rolled back`);
      const previous = now.previous ?? [];
      const at = previous.indexOf(modelId);
      if (at < 0) throw new Error(`model version ${modelId} is not among the versions promoted before in ${store.url}/${prefix}${PROMOTED}`);
      refuseIfBeingDeleted(store, prefix, now, modelId);
      await readManifest(store, modelId, prefix);
      return { modelId, promotedAt: new Date().toISOString(), previous: previous.slice(at + 1), ...marksKeptPromoting(now, modelId) };
    },
    prefix,
  );
  return written ?? done!;
}

/** The promoted version's id, or undefined when none is promoted. */
export async function promotedVersion(store: ObjectStore, prefix = ''): Promise<string | undefined> {
  return (await readPromoted(store, prefix, { marks: false }))?.modelId;
}

/**
 * The versions promoted before the current one, most recent first; undefined when none is
 * promoted, or when promoted.json was written before it remembered them.
 */
export async function previouslyPromoted(store: ObjectStore, prefix = ''): Promise<string[] | undefined> {
  return (await readPromoted(store, prefix, { marks: false }))?.previous;
}

/**
 * promoted.json as one read: the promoted version and, unless written before it remembered them,
 * those promoted before; undefined when none is promoted. Without `marks`, the deletion marks are
 * not read: a consumer following promotions needs none, and is not stopped by a malformed one (a
 * hand edit, a build of a59fa44's list of ids), which its deleters and promoters refuse.
 */
export async function readPromoted(store: ObjectStore, prefix = '', { marks = true } = {}): Promise<Promoted | undefined> {
  try {
    return parsePromoted(store, prefix, await store.get(prefix + PROMOTED), marks);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

function parsePromoted(store: ObjectStore, prefix: string, bytes: Uint8Array, readMarks = true): Promoted {
  const where = `${store.url}/${prefix}${PROMOTED}`;
  let promoted;
  try {
    promoted = JSON.parse(new TextDecoder().decode(bytes)) as { modelId?: unknown; promotedAt?: unknown; previous?: unknown; beingDeleted?: unknown; deleting?: unknown } | null;
  } catch (error) {
    throw new MalformedPromoted(`${where}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const isVersionId = (id: unknown): id is string => typeof id === 'string' && VERSION_ID.test(id);
  const isMark = (mark: unknown): mark is Required<DeletionMark> => {
    const { modelId: id, at, by } = (mark ?? {}) as Record<string, unknown>;
    return isVersionId(id) && typeof at === 'string' && !Number.isNaN(Date.parse(at)) && typeof by === 'string';
  };
  const { modelId, promotedAt, previous, beingDeleted, deleting } = promoted ?? {};
  if (!isVersionId(modelId)) throw new MalformedPromoted(`${where}: modelId is not a version id (${JSON.stringify(modelId)})`);
  if (previous !== undefined && (!Array.isArray(previous) || !previous.every(isVersionId))) throw new MalformedPromoted(`${where}: previous is not a list of version ids`);
  const promotion = { modelId, ...(typeof promotedAt === 'string' && { promotedAt }), ...(previous !== undefined && { previous }) };
  if (!readMarks) return promotion;
  if (beingDeleted !== undefined && !(Array.isArray(beingDeleted) && beingDeleted.every(isMark))) throw new MalformedPromoted(`${where}: beingDeleted is not a list of marks ({"modelId": a version id, "at": a time, "by": the deleter})`);
  if (deleting !== undefined && !isVersionId(deleting)) throw new MalformedPromoted(`${where}: deleting is not a version id (${JSON.stringify(deleting)})`);
  // `deleting`: the one version a released build marked, without a time.
  const marks: DeletionMark[] = [...(beingDeleted ?? []), ...(deleting !== undefined ? [{ modelId: deleting, by: RELEASED_MARK_BY }] : [])];
  return { ...promotion, ...(marks.length > 0 && { beingDeleted: marks }) };
}

/** Complete versions (those with a manifest), oldest first. */
export async function listVersions(store: ObjectStore, prefix = ''): Promise<string[]> {
  const ids: string[] = [];
  for await (const { key } of store.list(`${prefix}versions/`)) {
    const match = /^versions\/([^/]+)\/manifest\.json$/.exec(key.slice(prefix.length));
    if (match) ids.push(match[1]!);
  }
  return ids;
}

export async function readManifest(store: ObjectStore, modelId: string, prefix = ''): Promise<ModelManifest> {
  const key = `${versionPrefix(prefix, modelId)}manifest.json`;
  const manifest = (await readJson(store, key)) as ModelManifest | null;
  if (manifest?.format !== MANIFEST_FORMAT) throw new Error(`model version ${modelId}: unknown manifest format ${JSON.stringify(manifest?.format)}`);
  for (const part of ['hyperparameters', 'normalization'] as const) {
    if (typeof manifest[part] !== 'object' || manifest[part] === null) throw new Error(`${store.url}/${key}: ${part} is not an object`);
  }
  return manifest;
}

/** Loads a version (the promoted one when none is named) on the current tfjs backend. */
export async function loadVersion(store: ObjectStore, modelId?: string, prefix = ''): Promise<{ model: Autoencoder; manifest: ModelManifest }> {
  const id = modelId ?? (await promotedVersion(store, prefix));
  if (id === undefined) throw new Error(`no model version is promoted in ${store.url}${prefix ? ` under ${prefix}` : ''}`);
  const manifest = await readManifest(store, id, prefix);
  const config = modelConfig(manifest.hyperparameters);
  const normalization = normalizationConfig(manifest.normalization);
  const autoencoder = await tfl.loadLayersModel(objectStoreIO(store, versionPrefix(prefix, id)));
  try {
    const model = withSharedModels(autoencoder, config, normalization, id);
    checkShapes(model, `${store.url}/${versionPrefix(prefix, id)}model.json`);
    return { model, manifest };
  } catch (error) {
    // A manifest that does not fit the weights (another number of layers): a consumer tries the version again at every look.
    for (const weight of autoencoder.weights) weight.dispose();
    throw error;
  }
}

/**
 * Refuses a model whose layers make other shapes than its configuration says. tfjs checks the
 * layers with weights against weights.bin, not those without (upsampling, padding), so a
 * model.json of another making would otherwise load, and fail (or take gigabytes) at each field.
 */
function checkShapes(model: Autoencoder, modelJson: string): void {
  const { config } = model;
  const wanted = {
    'the embedding': [config.numdense],
    'the reconstruction of the cropped field': croppedShape(config),
    'the reconstruction of the whole field': [config.inputHeight, config.inputWidth],
  };
  const made = {
    'the embedding': model.embedder.outputs[0]!.shape.slice(1),
    'the reconstruction of the cropped field': model.embedder.outputs[1]!.shape.slice(1, 3),
    'the reconstruction of the whole field': model.autoencoder.outputs[0]!.shape.slice(1, 3),
  };
  for (const what of Object.keys(wanted) as Array<keyof typeof wanted>) {
    const [got, want] = [JSON.stringify(made[what]), JSON.stringify(wanted[what])];
    if (got !== want) throw new Error(`${modelJson}: its layers make ${what} ${got}, its manifest's hyperparameters ${want}`);
  }
}

async function anyObjectUnder(store: ObjectStore, prefix: string): Promise<boolean> {
  for await (const _ of store.list(prefix)) return true;
  return false;
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
}
