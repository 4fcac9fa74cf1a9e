/**
 * Nearest embeddings. Neighbours are ranked by Euclidean distance: the embedding is a Dense
 * layer's output with a bias, so its origin is arbitrary (an empty sky is not the zero vector),
 * and a distance does not depend on where the origin is, while a cosine does. The decoder turns
 * nearby codes into similar pictures, which is what "similar analyses" means here. The cosine is
 * printed beside it for those who want it.
 */
import type { Embedding } from '../bus/records.js';
import { formatHour } from '../stages/sources/hrrr-archive.js';
import type { StageLogger } from '../stages/stage.js';
import { modelOf } from './embeddings.js';

export interface Neighbour {
  rank: number;
  validTime: string;
  field: string;
  distance: number;
  similarity: number;
}

export interface Query {
  field: string;
  validTime: Date;
  /** A model version, when several embedded that hour; by default the one published last. */
  modelVersion?: string;
}

/** The embedding a query names, among those read; the error lists what there is instead. */
export function findEmbedding(embeddings: readonly Embedding[], { field, validTime, modelVersion }: Query): Embedding {
  const atTime = embeddings.filter((e) => e.field === field && e.validTime.getTime() === validTime.getTime());
  const matching = modelVersion === undefined ? atTime : atTime.filter((e) => e.modelVersion === modelVersion);
  const found = matching.at(-1);
  if (found) return found;
  if (atTime.length > 0) {
    throw new Error(`no embedding of ${field} at ${formatHour(validTime)} by model version ${modelVersion}; there are: ${[...new Set(atTime.map((e) => e.modelVersion))].join(', ')}`);
  }
  const fields = [...new Set(embeddings.map((e) => e.field))];
  throw new Error(`no embedding of ${field} at ${formatHour(validTime)} among ${embeddings.length} (fields: ${fields.join(', ') || 'none'})`);
}

/**
 * The k embeddings nearest the query's, of the same field and made by the same model (line and
 * version): embeddings of two models are points of two different spaces, so never compared. One
 * that is no point of that space (of another length, or holding a number that is not finite: its
 * distance to anything is NaN, which would leave the ranking of the others unsorted) is left out,
 * with a warning on `log`.
 */
export function nearest(query: Embedding, embeddings: readonly Embedding[], k: number, log: StageLogger): Neighbour[] {
  if (!query.embedding.every(Number.isFinite)) {
    throw new Error(`the embedding of ${query.field} at ${formatHour(query.validTime)} by model version ${query.modelVersion} holds a number that is not finite: it is near nothing`);
  }
  const model = modelOf(query);
  return embeddings
    .filter((e) => e.field === query.field && modelOf(e) === model && e.validTime.getTime() !== query.validTime.getTime())
    .filter((e) => {
      const unlike = e.embedding.length !== query.embedding.length ? `it has ${e.embedding.length} numbers, not ${query.embedding.length}` : e.embedding.every(Number.isFinite) ? undefined : 'it holds a number that is not finite';
      if (unlike) log.warn({ field: e.field, validTime: formatHour(e.validTime), modelVersion: e.modelVersion }, `left out the embedding at ${formatHour(e.validTime)}: ${unlike}`);
      return unlike === undefined;
    })
    .map((e) => ({ e, distance: euclidean(query.embedding, e.embedding) }))
    .sort((a, b) => a.distance - b.distance || a.e.validTime.getTime() - b.e.validTime.getTime())
    .slice(0, k)
    .map(({ e, distance }, i) => ({ rank: i + 1, validTime: formatHour(e.validTime), field: e.field, distance, similarity: cosine(query.embedding, e.embedding) }));
}

export function euclidean(a: ArrayLike<number>, b: ArrayLike<number>): number {
  sameLength(a, b);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}

/** The cosine of the angle between two vectors; 0 when either is zero. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  sameLength(a, b);
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! ** 2;
    bb += b[i]! ** 2;
  }
  return aa === 0 || bb === 0 ? 0 : dot / Math.sqrt(aa * bb);
}

function sameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`embeddings of ${a.length} and ${b.length} numbers cannot be compared`);
}
