import { parseArgs } from 'node:util';
import { nearest } from '../search/similar.js';
import { embeddingsTopicHelp, embeddingsTopicOptions, lookUpEmbedding } from './embeddings-topic.js';
import { commandLogger } from './sources.js';
import { UsageError } from './usage.js';

export const similarUsage = `usage: hrrr-embed similar --time T [-k N] [--field F] [--data DIR | --kafka HOST:PORT] [--model-version V]

Prints the analyses whose embeddings are nearest that of the analysis valid at T, one JSON line
each, nearest first: rank, validTime, field, distance (Euclidean, what they are ranked by) and
similarity (cosine). The embeddings are read from the embeddings topic, the latest record of each
field, hour and model version; only embeddings made by the same model line and version as T's are
compared, since two models' embeddings are points of different spaces. A record that is not Avro
of a known schema is skipped with a warning on stderr naming its partition and offset, and an
embedding of another length than T's, or holding a number that is not finite, is left out with
a warning naming its hour.

  -k N                 how many neighbours (default 10)
${embeddingsTopicHelp}`;

export async function similarCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseArgs({ args, options: { ...embeddingsTopicOptions, k: { type: 'string', short: 'k', default: '10' } } });
  const k = Number(values.k);
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`-k: ${values.k} is not a whole number of at least 1`, similarUsage);
  const log = commandLogger(false);
  const { query, embeddings } = await lookUpEmbedding(values, similarUsage, log);
  for (const neighbour of nearest(query, embeddings, k, log)) out(JSON.stringify(neighbour));
}
