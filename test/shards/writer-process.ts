/**
 * `node writer-process.js STORE ROWS MAX_ROWS [KILL_AFTER]`: appends ROWS test rows (hours 0, 1, ...) to a
 * shard writer rolling over every MAX_ROWS, prints {"appended": N} after each, and then waits,
 * never closing the writer: the crash test SIGKILLs it there. With KILL_AFTER (a regular
 * expression), it SIGKILLs itself right after the first store write that matches (killing-store.ts).
 */
import { SEED_NORMALIZATION } from '../../model/config.js';
import { createShardWriter } from '../../shards/writer.js';
import { openStore } from '../../store/open.js';
import { killingStore } from '../support/killing-store.js';
import { hour, testRow } from './rows.js';

const [location, rows, maxRows, killAfter] = process.argv.slice(2);
const store = killAfter === undefined ? openStore(location!) : killingStore(openStore(location!), new RegExp(killAfter), () => {});
const writer = createShardWriter({ store, normalization: SEED_NORMALIZATION, rollover: { maxRows: Number(maxRows) } });
for (let i = 0; i < Number(rows); i++) {
  await writer.append(testRow(hour(i)));
  process.stdout.write(`${JSON.stringify({ appended: i + 1 })}\n`);
}
setInterval(() => {}, 60_000);
