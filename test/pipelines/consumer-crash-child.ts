/**
 * The polling consumer in a process of its own, killed at a chosen write of its state store:
 * node consumer-crash-child.js FOLDER STATE [KILL_AFTER]. It reads the analyses of hours 0 to 4 from
 * FOLDER/source (hour 3 unusual: an alert), publishes to the file bus FOLDER/bus, keeps progress,
 * alert pictures and shards (two rows each) in STATE (a folder or s3://BUCKET), whose writes are printed as they are
 * made and the first one KILL_AFTER (a regular expression) matches is followed by SIGKILL (see
 * killing-store.ts). A writer started later keeps a killed one's pending rows at once.
 */
import { join } from 'node:path';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { runConsumer } from '../../pipelines/consume.js';
import { createShardWriter } from '../../shards/writer.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { openStore } from '../../store/open.js';
import { hour } from '../support/analyses.js';
import { killingStore } from '../support/killing-store.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

const [folder, location, killAfter] = process.argv.slice(2);
await selectBackend('cpu', 'inference', silentLogger);
const print = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
const state = killingStore(openStore(location!), killAfter === undefined ? undefined : new RegExp(killAfter), print);
const bus = new FileBus(join(folder!, 'bus'));
const shards = createShardWriter({ store: state, normalization: SEED_NORMALIZATION, rollover: { maxRows: 2 }, orphanAfterMs: 0 });
const model = { autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold: 0.1, backend: 'cpu' };
const codec = await AvroCodec.create();
const summary = await runConsumer(
  { source: new FolderStore(join(folder!, 'source')), state, bus, codec, model, shards, match: /:REFC:/, from: hour(0), to: hour(4), once: true, concurrency: 1 },
  undefined,
  { log: silentLogger, signal: new AbortController().signal },
);
await shards.close();
await bus.close();
print({ summary });
