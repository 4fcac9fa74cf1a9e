/**
 * `npm run bench -- backfill [--hours N] [--concurrency 1,4,16] [--latency-ms 0,50]`
 *
 * Backfill throughput against a real S3-compatible server on loopback (moto, as in the tests):
 * seeds N hours of synthetic analyses (REFC and TMP on the full HRRR grid, with .idx), then runs
 * the backfill pipeline over them once per concurrency, each into a fresh folder, and prints
 * analyses per second side by side with the ratio to the first concurrency. `--latency-ms` adds
 * that wait before each request, as a stand-in for the round trip to a distant bucket (loopback
 * has none), which is what concurrent fetches are there to hide.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Server } from '../infra/s3-server.js';
import { runBackfill } from '../pipelines/backfill.js';
import { HOUR_MS } from '../stages/sources/hrrr-archive.js';
import { sampleAnalysis } from '../stages/sources/sample-analyses.js';
import { silentLogger } from '../stages/stage.js';
import { FolderStore } from '../store/folder.js';
import { RetryingStore } from '../store/retrying.js';
import { scratchFolder } from './scratch-folder.js';
import { commandLine, parseBenchArgs, UsageError } from './usage.js';
import { withLatency } from './with-latency.js';

export const BACKFILL_USAGE = 'npm run bench -- backfill [--hours N] [--concurrency 1,4,16] [--latency-ms 0,50]';

const START = new Date('2019-09-20T00:00:00Z');

export async function backfillBench(args: string[]): Promise<number> {
  const { values } = parseBenchArgs({ args, options: { hours: { type: 'string', default: '48' }, concurrency: { type: 'string', default: '1,4,16' }, 'latency-ms': { type: 'string', default: '0,50' } } });
  const hours = Number(values.hours);
  const levels = values.concurrency.split(',').map(Number);
  const latencies = values['latency-ms'].split(',').map(Number);
  if (!Number.isInteger(hours) || hours < 1) throw new UsageError(`--hours: ${values.hours} is not a whole number of at least 1`);
  if (levels.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--concurrency: ${values.concurrency} is not a list of whole numbers`);
  if (latencies.some((n) => !(n >= 0))) throw new UsageError(`--latency-ms: ${values['latency-ms']} is not a list of milliseconds`);

  const server = await S3Server.start();
  const scratch = await scratchFolder('backfill');
  const work = scratch.path;
  try {
    const bucket = await server.store('hrrr');
    process.stderr.write(`seeding ${hours} analyses into moto at ${server.endpoint}...\n`);
    let objectBytes = 0;
    for (let hour = 0; hour < hours; hour++) {
      const sample = sampleAnalysis(new Date(START.getTime() + hour * HOUR_MS), hour);
      await bucket.put(`${sample.key}.idx`, new TextEncoder().encode(sample.idx));
      await bucket.put(sample.key, sample.grib2);
      objectBytes += sample.grib2.length;
    }
    /** The backfill of every hour into a fresh folder: seconds it took and bytes it fetched. */
    const pass = async (concurrency: number, latencyMs: number) => {
      const out = new FolderStore(await mkdtemp(join(work, `c${concurrency}-`)));
      const source = new RetryingStore(withLatency(bucket, latencyMs), { policy: { maxInFlight: 64 } });
      const started = process.hrtime.bigint();
      const summary = await runBackfill(
        { source, out, match: /:REFC:entire atmosphere:/, from: START, to: new Date(START.getTime() + (hours - 1) * HOUR_MS), concurrency },
        { log: silentLogger, signal: new AbortController().signal },
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (summary.done !== hours) throw new Error(`concurrency ${concurrency}: ${summary.done} of ${hours} analyses done`);
      return { seconds, bytesFetched: summary.bytesFetched };
    };
    // Untimed: the first pass pays for compiling the code and opening connections, which would make
    // the first row (every ratio's baseline) slower than the same run again.
    await pass(levels[0]!, 0);
    console.log(`# ${commandLine(['backfill', ...args])}`);
    console.log(`# ${hours} analyses, ${(objectBytes / hours / 1e6).toFixed(2)} MB each in the bucket; REFC read by its .idx range, checked, decoded and written to a folder; after one untimed pass`);
    console.log(`| added latency | concurrency | seconds | analyses/s | MB/s fetched | ratio to concurrency ${levels[0]} |`);
    console.log('|---|---|---|---|---|---|');
    for (const latencyMs of latencies) {
      let baseline: number | undefined;
      for (const concurrency of levels) {
        const { seconds, bytesFetched } = await pass(concurrency, latencyMs);
        const rate = hours / seconds;
        baseline ??= rate;
        console.log(`| ${latencyMs} ms | ${concurrency} | ${seconds.toFixed(2)} | ${rate.toFixed(1)} | ${(bytesFetched / 1e6 / seconds).toFixed(1)} | ${(rate / baseline).toFixed(2)} |`);
      }
    }
    bucket.destroy();
    return 0;
  } finally {
    await server.stop();
    await scratch.remove();
  }
}
