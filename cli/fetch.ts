import { parseArgs } from 'node:util';
import { eachMessage, inventoryLine } from '../grib2/index.js';
import type { StageLogger } from '../stages/stage.js';
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

interface ByteRange {
  start: number;
  end: number;
}

interface Piece {
  bytes: Uint8Array;
  range?: ByteRange | undefined;
}

/**
 * The messages of whole pieces that hold a field whose inventory line (as an .idx would list it)
 * matches, each as a piece of its own. A message that cannot be read is skipped with a warning when
 * others match, as the decode stage does: it may not have been wanted.
 */
function matchingMessages(pieces: { bytes: Uint8Array; source: { range?: ByteRange } }[], match: RegExp, object: string, log: StageLogger): Piece[] {
  const selected: Piece[] = [];
  const unreadable: { message: number; error: unknown }[] = [];
  for (const { bytes, source } of pieces) {
    const start = source.range?.start ?? 0;
    for (const message of eachMessage(bytes)) {
      if ('error' in message) {
        unreadable.push({ message: message.index + 1, error: message.error });
        continue;
      }
      if (!message.fields.some((field) => match.test(inventoryLine(field)))) continue;
      const { offset, length } = message.fields[0]!.message;
      selected.push({ bytes: bytes.subarray(offset, offset + length), range: { start: start + offset, end: start + offset + length - 1 } });
    }
  }
  if (selected.length === 0) throw unreadable[0]?.error ?? new Error(`${object}: no field of its messages matches ${match} (it has no .idx: read whole)`);
  for (const { message, error } of unreadable) log.warn({ key: object, message, err: (error as Error).message }, 'message skipped: it cannot be read, and other messages hold the fields that match');
  return selected;
}

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
    const fetched = [];
    for await (const piece of createFetchStage({ store, match }).process(analysis, context)) fetched.push(piece);
    // With no .idx to select by, the object came whole: its messages are selected here instead.
    const pieces = analysis.idx ? fetched.map(({ bytes, source }) => ({ bytes, range: source.range })) : matchingMessages(fetched, match, `${analysis.store}/${analysis.key}`, log);
    await writeOutputFile(values.out, Buffer.concat(pieces.map((piece) => piece.bytes)));
    out(JSON.stringify({
      time: analysis.time.toISOString(),
      store: analysis.store,
      key: analysis.key,
      objectSize: analysis.size,
      ranges: pieces.map((piece) => piece.range),
      bytes: pieces.reduce((sum, piece) => sum + piece.bytes.length, 0),
      out: values.out,
    }));
    return;
  }
  throw new Error(`no complete ${values.product} analysis for ${formatHour(time)} in ${store.url}`);
}
