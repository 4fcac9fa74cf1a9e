import { cosine } from '../search/similar.js';

/** The cosine similarity of every pair of embeddings: row i, column j compares embeddings i and j. */
export function similarityMatrix(embeddings: ReadonlyArray<ArrayLike<number>>): number[][] {
  return embeddings.map((a) => embeddings.map((b) => cosine(a, b)));
}
