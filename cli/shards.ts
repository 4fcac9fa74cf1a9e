import { parseArgs } from 'node:util';
import { defaultDataFolder } from '../bus/open.js';
import { openShardCatalog } from '../shards/catalog.js';
import { DEFAULT_SHARD_PREFIX } from '../shards/layout.js';
import { openStore } from '../store/open.js';
import { commandLogger, hourOption } from './sources.js';
import { UsageError } from './usage.js';

export const shardsUsage = `usage: hrrr-embed shards list [--store LOC] [--field F] [--from T] [--to T] [--prefix P]

Prints the complete shards of a field (those whose manifest is written), oldest first, one JSON
line per manifest: id, field, data object, time range, row count, size, encoding, SHA-256.

  --store LOC     where the shards are: s3://BUCKET or a folder (default ${defaultDataFolder});
                  --endpoint URL for an S3-compatible server (default AWS_ENDPOINT_URL)
  --field F       the field as its shards name it (default "REFC:entire atmosphere:anl")
  --from T        only shards with rows valid at or after hour T, e.g. 2019-09-20T05Z
  --to T          only shards with rows valid at or before hour T
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
      prefix: { type: 'string', default: DEFAULT_SHARD_PREFIX },
      verbose: { type: 'boolean', short: 'v', default: false },
    },
  });
  if (positionals[0] !== 'list' || positionals.length !== 1) throw new UsageError('shards takes one subcommand: list', shardsUsage);
  const from = options.from === undefined ? undefined : hourOption('--from', options.from, shardsUsage);
  const to = options.to === undefined ? undefined : hourOption('--to', options.to, shardsUsage);
  if (from && to && from > to) throw new UsageError(`--from ${options.from} is after --to ${options.to}`, shardsUsage);
  let store;
  try {
    store = openStore(options.store, { log: commandLogger(options.verbose), ...(options.endpoint !== undefined && { endpoint: options.endpoint }) });
  } catch (error) {
    throw new UsageError(`--store: ${(error as Error).message}`, shardsUsage);
  }
  const catalog = openShardCatalog(store, options.prefix);
  for (const manifest of await catalog.list({ field: options.field, ...(from && { from }), ...(to && { to }) })) out(JSON.stringify(manifest));
}
