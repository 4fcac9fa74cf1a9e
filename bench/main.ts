/**
 * Benchmarks, run with `npm run bench -- NAME [ARGS...]`: the first argument names the benchmark.
 * Speed is measured side by side and reported as ratios here, never asserted in tests.
 */
import { backfillBench, BACKFILL_USAGE } from './backfill.js';
import { busBench, BUS_USAGE } from './bus.js';
import { compactionBench, COMPACTION_USAGE } from './compaction.js';
import { consumerBench, CONSUMER_USAGE } from './consumer.js';
import { decodeBench, DECODE_USAGE } from './decode.js';
import { folderPutBench, FOLDER_PUT_USAGE } from './folder-put.js';
import { modelBench, MODEL_USAGE } from './model.js';
import { shardsBench, SHARDS_USAGE } from './shards.js';
import { trainBench, TRAIN_USAGE } from './train.js';
import { UsageError } from './usage.js';

interface Benchmark {
  summary: string;
  usage: string;
  run: (args: string[]) => Promise<number>;
  /**
   * It starts a broker or an S3 server, or writes a scratch folder, which are taken away at exit:
   * SIGINT and SIGTERM then end it through exit (Node's default action for them skips it). Not for
   * the others: a handler waits for the event loop, which a long synchronous step on the cpu
   * backend holds for minutes, and Ctrl-C should not.
   */
  cleansUpAtExit?: true;
}

const BENCHMARKS: Record<string, Benchmark> = {
  decode: {
    summary: "our GRIB2 decode of one message against ecCodes's, on the same bytes",
    usage: DECODE_USAGE,
    run: decodeBench,
  },
  backfill: {
    summary: 'backfill throughput (analyses per second) against a local S3 server, by concurrency',
    usage: BACKFILL_USAGE,
    run: backfillBench,
    cleansUpAtExit: true,
  },
  consumer: {
    summary: 'the consumer end to end: analyses per second and latency from object to acknowledged embedding, file bus and Kafka',
    usage: CONSUMER_USAGE,
    run: consumerBench,
    cleansUpAtExit: true,
  },
  bus: {
    summary: 'produce and consume throughput of embedding records on the file bus and a real Kafka broker',
    usage: BUS_USAGE,
    run: busBench,
    cleansUpAtExit: true,
  },
  model: {
    summary: 'the autoencoder: forward pass and training step, ms per image, per backend and batch size',
    usage: MODEL_USAGE,
    run: modelBench,
  },
  shards: {
    summary: 'shard value encodings on a real field: bytes per field, error, write and read ms per field',
    usage: SHARDS_USAGE,
    run: shardsBench,
    cleansUpAtExit: true,
  },
  compaction: {
    summary: 'shard compaction on a real S3-compatible server: objects, requests and read time of hourly shards against day shards',
    usage: COMPACTION_USAGE,
    run: compactionBench,
    cleansUpAtExit: true,
  },
  'folder-put': {
    summary: "what syncing the folder after the rename costs a folder store's put, by object size, beside the put without it",
    usage: FOLDER_PUT_USAGE,
    run: folderPutBench,
    cleansUpAtExit: true,
  },
  train: {
    summary: 'the retraining loop: Adam steps per second on streamed batches, small test configuration beside the seed\'s',
    usage: TRAIN_USAGE,
    run: trainBench,
  },
};

function usage(): string {
  const names = Object.entries(BENCHMARKS).map(([name, b]) => `  ${name.padEnd(10)} ${b.summary}\n    ${b.usage}`);
  return ['usage: npm run bench -- BENCHMARK [ARGS...]', '', 'benchmarks:', ...names].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const out = name === undefined ? process.stderr : process.stdout;
    out.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const benchmark = Object.hasOwn(BENCHMARKS, name) ? BENCHMARKS[name] : undefined;
  if (!benchmark) {
    process.stderr.write(`bench: unknown benchmark "${name}" (known: ${Object.keys(BENCHMARKS).join(', ')})\n\n${usage()}\n`);
    return 2;
  }
  if (benchmark.cleansUpAtExit) for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15]] as const) process.once(signal, () => process.exit(128 + number));
  try {
    return await benchmark.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`bench ${name}: ${error.message}\nusage: ${benchmark.usage}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
