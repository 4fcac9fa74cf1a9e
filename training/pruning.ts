/**
 * Which versions of a model store may be deleted (`hrrr-embed model prune`), and deleting them.
 * A version is kept while anything may still read it: the promoted one, those a consumer falls
 * back to and a rollback goes back to (promoted.json's `previous`), an unfinished run's candidate,
 * those the operator names (pinned with `run --version`), and every version younger than a few days
 * (a candidate just judged, a version pinned lately). When what consumers or runs need cannot be
 * read, nothing is deleted.
 */
import { versionsMadeBefore } from '../model/open.js';
import { changePromoted, deleteVersion, failedReadOfPromoted, isAbandoned, MalformedPromoted, markedAsBeingDeleted, readManifest, readPromoted, unmarkedAsBeingDeleted, type Promoted } from '../model/versions.js';
import type { ObjectStore } from '../store/object-store.js';
import { readPointer, type RunPointer } from './checkpoints.js';

/** A prune that would need what cannot be known (an unreadable promoted.json or run record, an unknown --keep): the message says what. */
export class PruneRefused extends Error {
  override readonly name = 'PruneRefused';
}

export interface PruneOptions {
  /** Versions made less than this many days ago are kept. */
  keepDays: number;
  /** Versions kept whatever their age: those pinned with `run --version`. */
  keep: string[];
  /** The clock, for tests. */
  now?: Date;
}

/** A version and why it is kept: deleted (or to delete) when `keptBecause` is empty. */
export interface VersionFate {
  modelId: string;
  createdAt: string | null;
  /** No manifest.json: the rest of a saving or a deletion that stopped part way. */
  incomplete?: true;
  keptBecause: string[];
}

const DAY_MS = 86_400_000;

/**
 * Every version, oldest first (by its manifest's createdAt; unreadable and incomplete ones last),
 * with why it is kept. An incomplete one (no manifest.json: a saving or a deletion that stopped
 * part way) is kept while a run's record says it is being saved, or while its latest object is
 * younger than `keepDays`. The versions are listed before the run records are read: a trainer
 * names its candidate in its record before it saves it, so a save under way is always seen as one.
 */
export async function planPrune(models: ObjectStore, { keepDays, keep, now = new Date() }: PruneOptions): Promise<VersionFate[]> {
  const { complete, incomplete } = await versionFolders(models);
  if (complete.length === 0 && incomplete.size === 0 && keep.length === 0) return []; // before the first training: nothing to prune, nothing to refuse
  const unknown = keep.find((id) => !complete.includes(id));
  if (unknown !== undefined) throw new PruneRefused(`--keep ${unknown}: no complete version ${unknown} in ${models.url}, so nothing is deleted (a misspelt pin would not protect the version meant)`);
  const needs = [await neededByConsumers(models, await promotion(models)), await neededByRuns(models)];
  const neededBecause = (modelId: string) => needs.flatMap((needed) => needed.get(modelId) ?? []);
  const young = (time: number) => now.getTime() - time < keepDays * DAY_MS;
  const fates: VersionFate[] = [];
  for (const modelId of complete) {
    const keptBecause = neededBecause(modelId);
    if (keep.includes(modelId)) keptBecause.push('named with --keep');
    const createdAt = await readManifest(models, modelId).then(
      (manifest) => manifest.createdAt,
      (error: Error) => {
        keptBecause.push(`its manifest is unreadable (${error.message}): its age is unknown`);
        return null;
      },
    );
    if (createdAt !== null) {
      const made = Date.parse(createdAt);
      if (Number.isNaN(made)) keptBecause.push(`its createdAt ${JSON.stringify(createdAt)} is no time: its age is unknown`);
      else if (young(made)) keptBecause.push(`made less than ${keepDays} days ago`);
    }
    fates.push({ modelId, createdAt, keptBecause });
  }
  fates.sort((a, b) => (a.createdAt ?? '\uffff').localeCompare(b.createdAt ?? '\uffff') || a.modelId.localeCompare(b.modelId));
  for (const [modelId, written] of incomplete) {
    const keptBecause = neededBecause(modelId);
    if (young(written.getTime())) keptBecause.push(`incomplete (no manifest.json), written less than ${keepDays} days ago: maybe being saved`);
    fates.push({ modelId, createdAt: null, incomplete: true, keptBecause });
  }
  return fates;
}

/** The versions under versions/: complete ones (with a manifest), and the others with when their latest object was written. */
async function versionFolders(models: ObjectStore): Promise<{ complete: string[]; incomplete: Map<string, Date> }> {
  const complete = new Set<string>();
  const written = new Map<string, Date>();
  for await (const { key, lastModified } of models.list('versions/')) {
    const [, modelId, name] = /^versions\/([^/]+)\/(.+)$/.exec(key) ?? [];
    if (modelId === undefined) continue;
    if (name === 'manifest.json') complete.add(modelId);
    const latest = written.get(modelId);
    if (latest === undefined || lastModified > latest) written.set(modelId, lastModified);
  }
  return { complete: [...complete], incomplete: new Map([...written].filter(([modelId]) => !complete.has(modelId))) };
}

/**
 * Deletes the versions `planned` found unneeded. Each is first named in promoted.json among the
 * versions being deleted (`beingDeleted`), by a write conditional on promoted.json holding what
 * was read (model/versions.ts changePromoted): a promotion (by hand, or by a trainer concluding
 * its run) either came first, and the version, needed now, is kept, or comes after, and is
 * refused for that version. A version saved meanwhile is in no plan. `done` hears what became of
 * each one planned for deletion as soon as it is decided, so that a failure part way leaves no
 * doubt about those before it. At the end promoted.json names none of those, nor a version
 * without a manifest (what a deletion stopped part way left: no promotion takes it), nor one whose
 * mark is abandoned (its deleter stopped over an hour ago; the version deleted or kept as this
 * prune planned); the marks of other deleters at work (a run removing its candidate) stay, a
 * released build's `deleting` dated.
 */
export async function deleteUnneeded(models: ObjectStore, planned: VersionFate[], done: (fate: VersionFate) => void): Promise<void> {
  const deleted = new Set<string>();
  for (const fate of planned.filter(({ keptBecause }) => keptBecause.length === 0)) {
    let neededBecause: string | undefined;
    await changePromoted(models, async (now) => {
      const promoted = required(models, now);
      neededBecause = (await neededByConsumers(models, promoted)).get(fate.modelId);
      return neededBecause === undefined ? markedAsBeingDeleted(promoted, fate.modelId) : undefined;
    });
    if (neededBecause !== undefined) {
      done({ ...fate, keptBecause: [`${neededBecause} (since this prune began)`] });
      continue;
    }
    await deleteVersion(models, fate.modelId);
    deleted.add(fate.modelId);
    done(fate);
  }
  await changePromoted(models, async (now) => {
    if (now instanceof Error || now === undefined) return undefined;
    const unmarked = await unmarkedAsBeingDeleted(now, async (mark) => deleted.has(mark.modelId) || isAbandoned(mark) || !(await models.head(`versions/${mark.modelId}/manifest.json`)));
    // Written back, a released build's `deleting` is dated, and counts as abandoned in its turn.
    return unmarked ?? (now.beingDeleted?.some(({ at }) => at === undefined) ? now : undefined);
  });
}

/**
 * Deletes the candidate a run stopped while saving (`modelId`: whole or not), fenced as a prune's
 * deletion is: first named in promoted.json among the versions being deleted, by a write
 * conditional on promoted.json holding what was read, so that a promotion by hand of that
 * candidate either came first (and it is kept) or is refused. Kept too when consumers need it
 * (promoted now, or before: a fallback, a rollback's target), and when it cannot be marked: there
 * is no promoted.json yet and the candidate is whole (an incomplete one, which no promotion takes,
 * is deleted). `model prune` deletes a kept one once unneeded. Returns why it was kept, or
 * undefined once deleted.
 */
export async function deleteAbandonedCandidate(models: ObjectStore, modelId: string): Promise<string | undefined> {
  let keptBecause: string | undefined;
  await changePromoted(models, async (now) => {
    if (now instanceof Error) throw now;
    if (now === undefined) {
      // Nothing to mark it in (a promoted.json naming no promoted version would be unreadable to
      // consumers); but a promotion reads the version's manifest, which no one writes any more.
      if (await models.head(`versions/${modelId}/manifest.json`)) keptBecause = 'no version is promoted yet, so promoted.json cannot mark it as being deleted, and it is whole: it could be promoted meanwhile';
      return undefined;
    }
    keptBecause = (await neededByConsumers(models, now)).get(modelId);
    return keptBecause === undefined ? markedAsBeingDeleted(now, modelId) : undefined;
  });
  if (keptBecause !== undefined) return keptBecause;
  await deleteVersion(models, modelId);
  await changePromoted(models, (now) => (now instanceof Error || now === undefined ? undefined : unmarkedAsBeingDeleted(now, (mark) => mark.modelId === modelId)));
  return undefined;
}

/** promoted.json, refusing when it is missing, malformed or cannot be read: it alone says which versions consumers may fall back to. */
async function promotion(models: ObjectStore): Promise<Promoted> {
  return required(models, await readPromoted(models).catch((error: Error) => error));
}

function required(models: ObjectStore, promoted: Promoted | undefined | Error): Promoted {
  if (promoted instanceof Error && !(promoted instanceof MalformedPromoted)) throw new PruneRefused(failedReadOfPromoted(models, promoted, 'which versions consumers may fall back to is unknown, and nothing is deleted'), { cause: promoted });
  if (promoted instanceof Error) {
    const message = promoted.message;
    throw new PruneRefused(`${message.includes('promoted.json') ? message : `${models.url}/promoted.json: ${message}`}: which versions consumers may fall back to is unknown, so nothing is deleted (model promote ID --force rewrites it)`);
  }
  if (promoted === undefined) throw new PruneRefused(`no version is promoted in ${models.url} (no promoted.json): which versions consumers need is unknown, so nothing is deleted`);
  return promoted;
}

/**
 * The promoted version and those a consumer may fall back to, with why. A promoted.json written
 * before it listed `previous` leaves a consumer to try every version made before the promoted one
 * (model/open.ts), newest first, until one loads: all of them are kept, until the next promotion
 * writes the list.
 */
async function neededByConsumers(models: ObjectStore, { modelId, previous }: { modelId: string; previous?: string[] }): Promise<Map<string, string>> {
  const needed = new Map([[modelId, 'promoted']]);
  if (previous !== undefined) {
    for (const id of previous) needed.set(id, `promoted before ${modelId}: a consumer's fallback, a rollback's target`);
  } else {
    for (const id of await versionsMadeBefore(models, modelId)) {
      needed.set(id, `made before the promoted ${modelId}, and promoted.json (written before it listed the versions promoted before) leaves a consumer to fall back to any of those`);
    }
  }
  return needed;
}

/** The candidates of unfinished runs (being saved, or judged and not yet promoted or not), with why; refuses when a run record is unreadable. */
async function neededByRuns(models: ObjectStore): Promise<Map<string, string>> {
  const needed = new Map<string, string>();
  for await (const { key } of models.list('training/')) {
    const runId = /^training\/([^/]+)\/latest\.json$/.exec(key)?.[1];
    if (runId === undefined) continue;
    let pointer: RunPointer | undefined;
    try {
      pointer = await readPointer(models, runId);
      if (pointer !== undefined && (typeof pointer !== 'object' || pointer === null)) throw new Error('not a JSON object');
    } catch (error) {
      throw new PruneRefused(`${models.url}/${key}: ${(error as Error).message}: whether run ${runId} still needs a version is unknown, so nothing is deleted`);
    }
    if (pointer === undefined || pointer.finished) continue;
    if (typeof pointer.saving === 'string') needed.set(pointer.saving, `run ${runId} is saving it as its candidate`);
    if (typeof pointer.judged?.modelId === 'string') needed.set(pointer.judged.modelId, `the candidate of run ${runId}, judged and not yet concluded`);
  }
  return needed;
}
