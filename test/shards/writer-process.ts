/**
 * `node writer-process.js STORE ROWS MAX_ROWS`: appends ROWS test rows (hours 0, 1, ...) to a
 * shard writer rolling over every MAX_ROWS, prints {"appended": N} after each, and then waits,
 * never closing the writer: the crash test SIGKILLs it there.
 */
import { SEED_NORMALIZATION } from '../../model/config.js';
import { createShardWriter } from '../../shards/writer.js';
import { openStore } from '../../store/open.js';
import { hour, testRow } from './rows.js';

const [location, rows, maxRows] = process.argv.slice(2);
const writer = createShardWriter({ store: openStore(location!), normalization: SEED_NORMALIZATION, rollover: { maxRows: Number(maxRows) } });
for (let i = 0; i < Number(rows); i++) {
  await writer.append(testRow(hour(i)));
  process.stdout.write(`${JSON.stringify({ appended: i + 1 })}\n`);
}
setInterval(() => {}, 60_000);
