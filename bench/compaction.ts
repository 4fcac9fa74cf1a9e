/**
 * `npm run bench -- compaction [--days N] [--latency-ms 0,20]`
 *
 * What compaction changes for the trainer, on a real S3-compatible server on loopback (moto): N
 * days of one-row shards of the real REFC field (float16, zstd), as a live consumer leaves them
 * (a shard an hour), are read through the catalog as a training pass reads them (list the
 * manifests, read every row); then each day is compacted into one shard and read again. Prints
 * side by side the objects, requests and seconds of a read before and after, and what the
 * compaction took. `--latency-ms` adds that wait before each request, a stand-in for the round
 * trip to a distant bucket (loopback has none).
 */
import { S3Server } from '../infra/s3-server.js';
import { SEED_NORMALIZATION } from '../model/config.js';
import { openShardCatalog } from '../shards/catalog.js';
import { compactShards } from '../shards/compact.js';
import { createShardWriter } from '../shards/writer.js';
import { HOUR_MS } from '../stages/sources/hrrr-archive.js';
import type { ObjectStore } from '../store/object-store.js';
import { REAL_REFC_FILE, realField } from './real-field.js';
import { commandLine, parseBenchArgs, UsageError } from './usage.js';
import { withLatency } from './with-latency.js';

export const COMPACTION_USAGE = 'npm run bench -- compaction [--days N] [--latency-ms 0,20]';

const FIELD = 'REFC:entire atmosphere:anl';
const START = Date.UTC(2019, 8, 20);

export async function compactionBench(args: string[]): Promise<number> {
  const { values: options } = parseBenchArgs({ args, options: { days: { type: 'string', default: '2' }, 'latency-ms': { type: 'string', default: '0,20' } } });
  const days = Number(options.days);
  const latencies = options['latency-ms'].split(',').map(Number);
  if (!Number.isInteger(days) || days < 1) throw new UsageError(`--days: ${options.days} is not a whole number of at least 1`);
  if (latencies.some((n) => !(n >= 0))) throw new UsageError(`--latency-ms: ${options['latency-ms']} is not a list of milliseconds`);
  const { values, height, width } = await realField(REAL_REFC_FILE, /^REFC$/);

  const server = await S3Server.start();
  try {
    console.log(`# ${commandLine(['compaction', ...args])}`);
    console.log(`# ${days} days of hourly one-row shards of the real REFC field (${height} x ${width}, float16, zstd) on moto; a read lists the manifests and reads every row, one shard after another`);
    console.log('| added latency | shards | objects | requests | read seconds | rows/s | ratio to hourly | compaction seconds |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const [round, latencyMs] of latencies.entries()) {
      // A bucket per round, not per latency: one given twice would find the first round's shards.
      const bucket = await server.store(`compaction-${round}`);
      const writer = createShardWriter({ store: bucket, normalization: SEED_NORMALIZATION, rollover: { maxRows: 1 } });
      for (let hour = 0; hour < days * 24; hour++) await writer.append({ validTime: new Date(START + hour * HOUR_MS), field: FIELD, source: `bench://hour/${hour}`, height, width, values });
      await writer.close();
      const counted = countingRequests(withLatency(bucket, latencyMs));

      const hourly = await timedRead(counted.store, counted.requests, bucket);
      const started = performance.now();
      await compactShards({ store: withLatency(bucket, latencyMs), field: FIELD, before: new Date(START + days * 24 * HOUR_MS) });
      const compactionSeconds = (performance.now() - started) / 1000;
      const daily = await timedRead(counted.store, counted.requests, bucket);
      for (const [name, read] of [['hourly', hourly], ['daily', daily]] as const) {
        const compaction = name === 'daily' ? compactionSeconds.toFixed(2) : '';
        console.log(`| ${latencyMs} ms | ${name} | ${read.objects} | ${read.requests} | ${read.seconds.toFixed(2)} | ${(read.rows / read.seconds).toFixed(1)} | ${(hourly.seconds / read.seconds).toFixed(2)} | ${compaction} |`);
      }
      bucket.destroy();
    }
    return 0;
  } finally {
    await server.stop();
  }
}

/** A pass as the trainer reads: the manifests, then every row of every shard. */
async function timedRead(store: ObjectStore, requests: () => number, bucket: ObjectStore): Promise<{ objects: number; requests: number; seconds: number; rows: number }> {
  let objects = 0;
  for await (const { key } of bucket.list('shards/')) if (!key.includes('/.pending/')) objects++;
  const before = requests();
  const started = performance.now();
  const catalog = openShardCatalog(store);
  let rows = 0;
  for (const manifest of await catalog.list({ field: FIELD })) for await (const _ of catalog.read(manifest)) rows++;
  return { objects, requests: requests() - before, seconds: (performance.now() - started) / 1000, rows };
}

function countingRequests(store: ObjectStore): { store: ObjectStore; requests: () => number } {
  let count = 0;
  const counted: ObjectStore = {
    url: store.url,
    async *list(prefix, options) {
      count++;
      yield* store.list(prefix, options);
    },
    head: (key, options) => (count++, store.head(key, options)),
    get: (key, options) => (count++, store.get(key, options)),
    put: (key, body, options) => (count++, store.put(key, body, options)),
    delete: (key, options) => (count++, store.delete(key, options)),
  };
  return { store: counted, requests: () => count };
}
