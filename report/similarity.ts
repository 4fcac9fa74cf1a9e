import { cosine } from '../search/similar.js';

/**
 * The cosine similarity of every pair of embeddings, each less the mean of them all: row i,
 * column j compares embeddings i and j. Centred, because what every embedding shares (the Dense
 * layer's bias, the empty sky that is most of every field) would otherwise make every pair look
 * alike (the raw cosines of ten demo hours by the untrained reduced model are all 0.78 to 1);
 * centred, they tell hours apart. Identical embeddings are 1 even when centring leaves nothing to
 * compare (all of them equal, or one equal to the mean).
 */
export function similarityMatrix(embeddings: ReadonlyArray<ArrayLike<number>>): number[][] {
  const size = embeddings[0]?.length ?? 0;
  const mean = new Float64Array(size);
  for (const embedding of embeddings) for (let i = 0; i < size; i++) mean[i]! += embedding[i]! / embeddings.length;
  const centred = embeddings.map((embedding) => Float64Array.from({ length: size }, (_, i) => embedding[i]! - mean[i]!));
  return centred.map((a, i) => centred.map((b, j) => (identical(embeddings[i]!, embeddings[j]!) ? 1 : cosine(a, b))));
}

function identical(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return a.length === b.length;
}
