import { parseArgs } from 'node:util';
import { defaultDataFolder } from '../bus/open.js';
import { openShardCatalog } from '../shards/catalog.js';
import { DEFAULT_SHARD_PREFIX } from '../shards/layout.js';
import type { ObjectStore } from '../store/object-store.js';
import { compactTrainerShards } from '../training/compaction.js';
import { holdingTrainerLease } from './retrain.js';
import { commandLogger, hourOption, storeOption } from './sources.js';
import { UsageError } from './usage.js';

export const shardsUsage = `usage: hrrr-embed shards list [--store LOC] [--field F] [--from T] [--to T] [--prefix P]
       hrrr-embed shards compact --models LOC [--store LOC] [--field F] [--before T] [--prefix P]

list: prints the complete shards of a field (those whose manifest is written), oldest first, one
JSON line per manifest: id, field, data object, time range, row count, size, encoding, SHA-256.

compact: merges the shards of each UTC day that has ended into one (a live consumer writes about
one an hour), each valid time kept once, and removes the merged ones; one JSON line per day
compacted. It holds the trainer lease of the model store while it works, so no training run
reads the shards it removes, and leaves alone the days of shards an unfinished run planned on.

  --store LOC     where the shards are: s3://BUCKET or a folder (default ${defaultDataFolder});
                  --endpoint URL for an S3-compatible server (default AWS_ENDPOINT_URL)
  --field F       the field as its shards name it (default "REFC:entire atmosphere:anl")
  --from T        list: only shards with rows valid at or after hour T, e.g. 2019-09-20T05Z
  --to T          list: only shards with rows valid at or before hour T
  --models LOC    compact: the model store whose trainer reads these shards
  --before T      compact: only days that ended by hour T (default two hours ago)
  --prefix P      the shards' key prefix in the store (default ${DEFAULT_SHARD_PREFIX})
  -v, --verbose   log every request and retry on stderr`;

export async function shardsCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values: options, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      store: { type: 'string', default: defaultDataFolder },
      endpoint: { type: 'string' },
      field: { type: 'string', default: 'REFC:entire atmosphere:anl' },
      from: { type: 'string' },
      to: { type: 'string' },
      models: { type: 'string' },
      before: { type: 'string' },
      prefix: { type: 'string', default: DEFAULT_SHARD_PREFIX },
      verbose: { type: 'boolean', short: 'v', default: false },
    },
  });
  const [subcommand, ...extra] = positionals;
  if (!(subcommand === 'list' || subcommand === 'compact') || extra.length > 0) throw new UsageError('shards takes one subcommand: list or compact', shardsUsage);
  const only = (names: Array<keyof typeof options>, where: string) => {
    for (const name of names) if (options[name] !== undefined) throw new UsageError(`--${name} is for shards ${where}`, shardsUsage);
  };
  const log = commandLogger(options.verbose);
  const open = (option: string, location: string): ObjectStore => storeOption(`--${option}`, location, shardsUsage, { log, ...(options.endpoint !== undefined && { endpoint: options.endpoint }) });
  if (subcommand === 'list') {
    only(['models', 'before'], 'compact');
    const from = options.from === undefined ? undefined : hourOption('--from', options.from, shardsUsage);
    const to = options.to === undefined ? undefined : hourOption('--to', options.to, shardsUsage);
    if (from && to && from > to) throw new UsageError(`--from ${options.from} is after --to ${options.to}`, shardsUsage);
    const store = open('store', options.store);
    const manifests = await openShardCatalog(store, options.prefix).list({ field: options.field, ...(from && { from }), ...(to && { to }) });
    for (const manifest of manifests) out(JSON.stringify(manifest));
    if (manifests.length === 0) {
      const within = from || to ? ` valid ${options.from ?? '...'} to ${options.to ?? '...'}` : '';
      log.warn({ store: store.url, prefix: options.prefix, field: options.field }, `no complete shards of ${JSON.stringify(options.field)}${within} under ${store.url}/${options.prefix} (run keeps them in its --shards store, by default its --data folder: the demo's are in .work/demo/data)`);
    }
    return;
  }
  only(['from', 'to'], 'list');
  if (options.models === undefined) throw new UsageError('shards compact: --models is required', shardsUsage);
  const before = options.before === undefined ? undefined : hourOption('--before', options.before, shardsUsage);
  const store = open('store', options.store);
  const models = open('models', options.models);
  const stop = new AbortController();
  const shutdown = () => stop.abort();
  process.once('SIGINT', shutdown).once('SIGTERM', shutdown);
  try {
    await holdingTrainerLease(models, log, stop, async () => {
      const days = await compactTrainerShards(models, { store, field: options.field, prefix: options.prefix, log, signal: stop.signal, ...(before && { before }) });
      for (const { day, shard, replaced, duplicates } of days) out(JSON.stringify({ day, shard: shard.id, rows: shard.count, bytes: shard.bytes, replaced, duplicates }));
    });
  } finally {
    process.off('SIGINT', shutdown).off('SIGTERM', shutdown);
  }
}
