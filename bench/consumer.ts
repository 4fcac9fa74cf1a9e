/**
 * `npm run bench -- consumer [--analyses N] [--latency-runs N] [--device D] [--no-kafka] [--batch-size N] [--concurrency N] [--worker] [--shards]`
 *
 * The consumer end to end, on the real HRRR grid and the seed model (untrained: its speed is a
 * trained one's): a backlog of N analyses in a folder, run through discover, fetch, decode,
 * normalize, encode and publish, on the file bus and on a Kafka broker started for the purpose,
 * side by side; then the latency from an analysis's GRIB2 object appearing in the store to its
 * embedding acknowledged by the bus, one analysis at a time, with the consumer following.
 * `--batch-size` encodes the fields of the analyses in flight together (`--concurrency` of them,
 * default the larger of 2 and the batch size), `--worker` in a worker thread. `--shards` runs each
 * bus twice, without and with the fields kept as shards (written at the end of the backlog).
 */
import { join } from 'node:path';
import { AvroCodec } from '../bus/avro/codec.js';
import type { TopicBus } from '../bus/bus.js';
import { FileBus } from '../bus/files/file-bus.js';
import { KafkaBus } from '../bus/kafka/kafka-bus.js';
import { startBroker, type TestBroker } from '../infra/kafka/broker.js';
import { createAutoencoder, disposeAutoencoder } from '../model/autoencoder.js';
import { selectBackend } from '../model/backends.js';
import { startEncoderThread } from '../model/encoder-thread.js';
import { runConsumer } from '../pipelines/consume.js';
import { HOUR_MS } from '../stages/sources/hrrr-archive.js';
import { sampleAnalysis } from '../stages/sources/sample-analyses.js';
import { silentLogger } from '../stages/stage.js';
import { createShardWriter } from '../shards/writer.js';
import { FolderStore } from '../store/folder.js';
import { scratchFolder } from './scratch-folder.js';
import { commandLine, deviceOption, parseBenchArgs, UsageError } from './usage.js';

export const CONSUMER_USAGE = 'npm run bench -- consumer [--analyses N] [--latency-runs N] [--device D] [--no-kafka] [--batch-size N] [--concurrency N] [--worker] [--shards]';

const START = new Date('2019-09-20T00:00:00Z');
const hour = (n: number) => new Date(START.getTime() + n * HOUR_MS);

export async function consumerBench(args: string[]): Promise<number> {
  const { values } = parseBenchArgs({ args, options: { analyses: { type: 'string', default: '8' }, 'latency-runs': { type: 'string', default: '3' }, device: { type: 'string', default: 'auto' }, 'no-kafka': { type: 'boolean', default: false }, 'batch-size': { type: 'string', default: '1' }, concurrency: { type: 'string' }, worker: { type: 'boolean', default: false }, shards: { type: 'boolean', default: false } } });
  const batchSize = Number(values['batch-size']);
  const concurrency = Number(values.concurrency ?? Math.max(2, batchSize));
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`--batch-size: ${values['batch-size']} is not a whole number of at least 1`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency: ${values.concurrency} is not a whole number of at least 1`);
  const analyses = Number(values.analyses);
  const latencyRuns = Number(values['latency-runs']);
  if (!Number.isInteger(analyses) || analyses < 1) throw new UsageError(`--analyses: ${values.analyses} is not a whole number of at least 1`);
  if (!Number.isInteger(latencyRuns) || latencyRuns < 0) throw new UsageError(`--latency-runs: ${values['latency-runs']} is not a whole number`);
  const { backend, adapter } = await selectBackend(deviceOption(values.device), 'inference', silentLogger);
  const samples = Array.from({ length: analyses + latencyRuns }, (_, n) => sampleAnalysis(hour(n), n));
  const autoencoder = createAutoencoder();
  const encoder = values.worker ? await startEncoderThread(autoencoder, backend) : undefined;
  const model = { autoencoder, id: 'bench', alertThreshold: null, backend, ...(encoder && { encodeBatch: encoder.encodeBatch }) };
  const scratch = await scratchFolder('consumer');
  const work = scratch.path;
  let broker: TestBroker | undefined;
  try {
    const buses: Array<[string, () => TopicBus]> = [['file bus', () => new FileBus(join(work, 'bus'))]];
    if (!values['no-kafka']) {
      broker = await startBroker();
      const address = broker.address;
      buses.push(['Kafka', () => new KafkaBus({ brokers: [address], log: silentLogger })]);
    }
    const put = async (source: FolderStore, n: number) => {
      await source.put(`${samples[n]!.key}.idx`, new TextEncoder().encode(samples[n]!.idx));
      await source.put(samples[n]!.key, samples[n]!.grib2);
    };
    // Untimed: the first backlog pays for compiling the code and the model's kernels, which would
    // make the first row slower than the same run again, and flatter every row after it.
    const warmUp = new FolderStore(join(work, 'warm-up', 'source'));
    await put(warmUp, 0);
    const warmUpBus = new FileBus(join(work, 'warm-up', 'bus'));
    const warmed = await runConsumer(
      { source: warmUp, state: new FolderStore(join(work, 'warm-up', 'state')), bus: warmUpBus, codec: await AvroCodec.create(), model, match: /:REFC:/, from: hour(0), to: hour(0), concurrency, batching: { maxBatch: batchSize, maxWaitMs: 50 } },
      undefined,
      { log: silentLogger, signal: new AbortController().signal },
    );
    await warmUpBus.close();
    if (warmed.done !== 1) throw new Error(`the warm-up analysis was not done (${JSON.stringify(warmed)})`);
    console.log(`# ${commandLine(['consumer', ...args])}`);
    console.log(`# encoder: batches of up to ${batchSize} fields (50 ms wait), ${concurrency} analyses in flight, on the ${encoder ? 'worker' : 'main'} thread`);
    console.log(`# backend ${backend} (${adapter}); seed model (969,123 parameters) on the full 1059 x 1799 grid; REFC fetched by its .idx range from a folder; after one untimed analysis`);
    console.log('| bus | shards | backlog of | seconds | analyses/s | latency, object to acknowledged embedding (median, ms) |');
    console.log('|---|---|---|---|---|---|');
    for (const [name, openBus] of buses) for (const keepShards of values.shards ? [false, true] : [false]) {
      const run = join(work, `${name.replace(/\W/g, '')}-${keepShards}`);
      const source = new FolderStore(join(run, 'source'));
      const state = new FolderStore(join(run, 'state'));
      const bus = openBus();
      const codec = await AvroCodec.create();
      for (let n = 0; n < analyses; n++) await put(source, n);
      const shards = keepShards ? createShardWriter({ store: state, normalization: autoencoder.normalization }) : undefined;
      const base = { source, state, bus, codec, model, match: /:REFC:/, from: hour(0), concurrency, batching: { maxBatch: batchSize, maxWaitMs: 50 }, ...(shards && { shards }) };
      const started = process.hrtime.bigint();
      const backlog = await runConsumer({ ...base, to: hour(analyses - 1) }, undefined, { log: silentLogger, signal: new AbortController().signal });
      await shards?.flush();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (backlog.done !== analyses) throw new Error(`${name}: ${backlog.done} of ${analyses} analyses done`);

      // Following: each analysis is put, and timed until the bus acknowledged its embedding. (Its
      // hour is years past: no gaps, or discovery would rightly give up on it before it is put.)
      const latencies: number[] = [];
      let appeared = 0n;
      const following = runConsumer({ ...base, from: hour(analyses), to: hour(analyses + latencyRuns - 1), discovery: { pollIntervalMs: 20, gapAfterMs: Infinity } }, (event) => {
        if (event.kind === 'done') latencies.push(Number(process.hrtime.bigint() - appeared) / 1e6);
      }, { log: silentLogger, signal: new AbortController().signal });
      for (let n = analyses; n < analyses + latencyRuns; n++) {
        appeared = process.hrtime.bigint();
        await put(source, n);
        while (latencies.length < n - analyses + 1) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await following;
      await shards?.close();
      latencies.sort((a, b) => a - b);
      const median = latencies.length > 0 ? latencies[Math.floor(latencies.length / 2)]!.toFixed(0) : 'n/a';
      console.log(`| ${name} | ${keepShards ? 'kept' : 'off'} | ${analyses} | ${seconds.toFixed(2)} | ${(analyses / seconds).toFixed(2)} | ${median} (${latencies.map((ms) => ms.toFixed(0)).join(', ')}) |`);
      await bus.close();
    }
    return 0;
  } finally {
    await encoder?.close();
    disposeAutoencoder(autoencoder);
    await broker?.stop();
    await scratch.remove();
  }
}
