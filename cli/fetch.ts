import { parseArgs } from 'node:util';
import { createDiscoverySource } from '../stages/sources/discover.js';
import { createFetchStage } from '../stages/sources/fetch.js';
import { formatHour } from '../stages/sources/hrrr-archive.js';
import { commandLogger, fieldMatcher, hourOption, openSource, sourceOptions, sourceUsage } from './sources.js';
import { writeOutputFile } from './files.js';
import { UsageError } from './usage.js';

export const fetchUsage = `usage: hrrr-embed fetch --time YYYY-MM-DDTHHZ --out FILE [OPTIONS]

Reads the analysis of one hour: finds the messages of the chosen fields in its .idx, downloads
only their bytes (adjacent messages in one request), checks that whole GRIB2 messages arrived,
and writes them to FILE exactly as stored. Prints one JSON line: key, byte ranges, bytes.

  --time T        the hour, e.g. 2019-09-20T05Z
  --out FILE      where the GRIB2 bytes go
${sourceUsage}`;

export async function fetchCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseArgs({ args, options: { ...sourceOptions, time: { type: 'string' }, out: { type: 'string' } } });
  if (values.time === undefined) throw new UsageError('--time is required', fetchUsage);
  if (values.out === undefined) throw new UsageError('--out is required', fetchUsage);
  const time = hourOption('--time', values.time, fetchUsage);
  const match = fieldMatcher(values, fetchUsage);
  const log = commandLogger(values.verbose);
  const store = openSource(values, log, fetchUsage);
  const product = { domain: values.domain, product: values.product };
  const context = { log, signal: new AbortController().signal };

  const discovery = createDiscoverySource({ store, product, from: time, to: time, once: true, idxWaitMs: 0 });
  for await (const analysis of discovery.run(context)) {
    const pieces = [];
    for await (const piece of createFetchStage({ store, match }).process(analysis, context)) pieces.push(piece);
    await writeOutputFile(values.out, Buffer.concat(pieces.map((piece) => piece.bytes)));
    out(JSON.stringify({
      time: analysis.time.toISOString(),
      store: analysis.store,
      key: analysis.key,
      objectSize: analysis.size,
      ranges: pieces.map((piece) => piece.source.range),
      bytes: pieces.reduce((sum, piece) => sum + piece.bytes.length, 0),
      out: values.out,
    }));
    return;
  }
  throw new Error(`no complete ${values.product} analysis for ${formatHour(time)} in ${store.url}`);
}
