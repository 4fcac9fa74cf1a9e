/**
 * `npm run bench -- bus [--records N] [--batch N] [--single N] [--no-kafka]`
 *
 * Produces and consumes embedding records (Avro, as the pipeline will publish them) on the
 * embedded file bus and on a real Kafka broker started by infra/kafka/broker.ts, and prints for
 * each: batched produce throughput (acknowledged, synced), the latency of one record produced and
 * acknowledged at a time, and consume throughput from the beginning (bytes only, no decoding).
 * The producer's first connection is not counted (an untimed produce comes first); the consumer's
 * joining its group is (consume is timed from subscribing to the last record).
 * Also the codec's encode and decode time per record, and the broker's start time (storage
 * format, JVM start, until describeCluster answers).
 */
import { cpus } from 'node:os';
import { AvroCodec } from '../bus/avro/codec.js';
import type { OutgoingRecord, TopicBus } from '../bus/bus.js';
import { FileBus } from '../bus/files/file-bus.js';
import { KafkaBus } from '../bus/kafka/kafka-bus.js';
import { startBroker, testConsumerTiming } from '../infra/kafka/broker.js';
import { silentLogger } from '../stages/stage.js';
import { scratchFolder } from './scratch-folder.js';
import { commandLine, parseBenchArgs, UsageError } from './usage.js';

export const BUS_USAGE = 'npm run bench -- bus [--records N] [--batch N] [--single N] [--no-kafka]';

interface Figures {
  bus: string;
  produceRecordsPerSecond: number;
  produceMegabytesPerSecond: number;
  singleProduceMedianMs: number;
  singleProduceP99Ms: number;
  consumeRecordsPerSecond: number;
}

export async function busBench(args: string[]): Promise<number> {
  const { values } = parseBenchArgs({
    args,
    options: { records: { type: 'string', default: '20000' }, batch: { type: 'string', default: '100' }, single: { type: 'string', default: '300' }, 'no-kafka': { type: 'boolean', default: false } },
  });
  const [records, batch, single] = [values.records, values.batch, values.single].map(Number) as [number, number, number];
  if (![records, batch, single].every((n) => Number.isInteger(n) && n >= 1)) throw new UsageError('--records, --batch and --single take whole numbers of at least 1');

  const codec = await AvroCodec.create();
  let started = performance.now();
  const sample = await embeddingRecords(codec, records);
  const encodeMicroseconds = ((performance.now() - started) * 1000) / records;
  started = performance.now();
  for (const record of sample) await codec.decode({ topic: codec.topics.embeddings, key: record.key, value: record.value, headers: record.headers ?? {} });
  const decodeMicroseconds = ((performance.now() - started) * 1000) / records;
  const recordBytes = sample.reduce((sum, record) => sum + record.value.length + (record.key?.length ?? 0), 0) / sample.length;
  const results: Array<Figures & { brokerStartMs?: number }> = [];

  const folder = await scratchFolder('bus');
  try {
    results.push(await measure(new FileBus(folder.path), 'file', sample, batch, single));
  } finally {
    await folder.remove();
  }

  if (!values['no-kafka']) {
    started = performance.now();
    const broker = await startBroker();
    const brokerStartMs = performance.now() - started;
    try {
      results.push({ ...(await measure(new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming }), 'kafka', sample, batch, single)), brokerStartMs });
    } finally {
      await broker.stop();
    }
  }

  const lines = [
    `bus benchmark: ${records} embedding records of ${recordBytes.toFixed(0)} bytes (key + Avro value), batches of ${batch}, ${single} single produces`,
    `avro  encode ${encodeMicroseconds.toFixed(1)} µs, decode ${decodeMicroseconds.toFixed(1)} µs per record (key and value)`,
  ];
  for (const r of results) {
    lines.push(
      `${r.bus.padEnd(5)} produce ${thousands(r.produceRecordsPerSecond)} records/s (${r.produceMegabytesPerSecond.toFixed(1)} MB/s); ` +
        `one at a time: median ${r.singleProduceMedianMs.toFixed(2)} ms, p99 ${r.singleProduceP99Ms.toFixed(2)} ms; consume ${thousands(r.consumeRecordsPerSecond)} records/s (joining included)` +
        (r.brokerStartMs === undefined ? '' : `; broker start ${(r.brokerStartMs / 1000).toFixed(1)} s`),
    );
  }
  const json = { benchmark: 'bus', command: commandLine(['bus', ...args]), records, batch, single, recordBytes, encodeMicroseconds, decodeMicroseconds, node: process.version, cpu: cpus()[0]?.model ?? null, cores: cpus().length, results };
  process.stdout.write(`${lines.join('\n')}\nJSON ${JSON.stringify(json)}\n`);
  return 0;
}

async function measure(bus: TopicBus, name: string, records: OutgoingRecord[], batch: number, single: number): Promise<Figures> {
  try {
    const topic = `bench-${Date.now()}`;
    await bus.createTopic(topic, { partitions: 1 });
    const bytes = records.reduce((sum, record) => sum + record.value.length + (record.key?.length ?? 0), 0);
    // Untimed: the first produce connects and fetches the topic's metadata, which is no record's cost.
    await bus.produce(topic, [records[0]!]);

    let started = performance.now();
    for (let i = 0; i < records.length; i += batch) await bus.produce(topic, records.slice(i, i + batch));
    const produceSeconds = (performance.now() - started) / 1000;

    const latencies: number[] = [];
    for (let i = 0; i < single; i++) {
      const one = performance.now();
      await bus.produce(topic, [records[i % records.length]!]);
      latencies.push(performance.now() - one);
    }
    latencies.sort((a, b) => a - b);

    const consumer = bus.consumer({ group: `bench-${name}`, topics: [topic], fromBeginning: true });
    let consumed = 0;
    started = performance.now();
    for await (const _ of consumer.records()) if (++consumed === records.length) break;
    const consumeSeconds = (performance.now() - started) / 1000;
    await consumer.close();

    return {
      bus: name,
      produceRecordsPerSecond: records.length / produceSeconds,
      produceMegabytesPerSecond: bytes / produceSeconds / 1e6,
      singleProduceMedianMs: latencies[Math.floor(latencies.length / 2)]!,
      singleProduceP99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!,
      consumeRecordsPerSecond: records.length / consumeSeconds,
    };
  } finally {
    await bus.close();
  }
}

/** Embedding records with distinct valid times and embeddings, as the pipeline publishes them. */
async function embeddingRecords(codec: AvroCodec, count: number): Promise<OutgoingRecord[]> {
  const start = Date.UTC(2019, 0, 1);
  const records: OutgoingRecord[] = [];
  for (let i = 0; i < count; i++) {
    const validTime = new Date(start + i * 3_600_000);
    const { record } = await codec.encode('embeddings', { field: 'REFC:entire atmosphere:anl', validTime }, {
      validTime,
      referenceTime: validTime,
      source: { store: 's3://noaa-hrrr-bdp-pds', key: `hrrr.${validTime.toISOString().slice(0, 10).replaceAll('-', '')}/conus/hrrr.t${String(validTime.getUTCHours()).padStart(2, '0')}z.wrfsfcf00.grib2`, byteStart: 0, byteEnd: 350_000 },
      field: 'REFC:entire atmosphere:anl',
      modelId: 'refc-autoencoder',
      modelVersion: '1',
      embedding: Array.from({ length: 50 }, (_, j) => Math.sin(i + j)),
      reconstructionError: 0.01,
      normalization: { missingAs: 0, clipMin: 0, clipMax: 60, divisor: 60 },
      crop: { firstRow: 17, rows: 1024, firstColumn: 4, columns: 1792, downsample: 1 },
    });
    records.push(record);
  }
  return records;
}

function thousands(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
