import { parseArgs } from 'node:util';
import { BACKFILL_LEASE, runBackfill } from '../pipelines/backfill.js';
import { formatHour, HOUR_MS } from '../stages/sources/hrrr-archive.js';
import { ProgressBar } from './progress-bar.js';
import { commandLogger, fieldMatcher, hourOption, openSource, sourceOptions, sourceUsage, storeOption } from './sources.js';
import { acquireLease, leaseOwner } from '../store/lease.js';
import { UsageError } from './usage.js';

export const backfillUsage = `usage: hrrr-embed backfill --from YYYY-MM-DDTHHZ --to YYYY-MM-DDTHHZ --out LOC [OPTIONS]

Runs the ingest stages over a range of hours (both ends included), CONCURRENCY analyses at once:
finds each analysis, downloads only the chosen fields' bytes by its .idx, checks and decodes
them, and writes those messages with a fresh .idx to LOC in the bucket's layout: a small mirror
that other commands can read with --source LOC. Progress is kept in LOC: a second run skips
what is done. Hours missing from the source are reported as gaps. Prints one JSON line per
analysis (done, gap, dead letter or failed) and a summary; progress goes to the log on stderr
every 10 s (hours handled, rate, time left), and as a bar when stderr is a terminal.

  --from T, --to T     the first and last hour, e.g. --from 2019-01-01T00Z --to 2019-12-31T23Z
  --out LOC            a folder or s3://BUCKET for the mirror and the progress record
  --concurrency N      analyses at once (default 8)
  --quiet              no progress bar
${sourceUsage}
exit codes: 0 every hour done or a gap, 1 some analyses failed or were rejected.`;

export async function backfillCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { ...sourceOptions, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' }, concurrency: { type: 'string', default: '8' }, quiet: { type: 'boolean', default: false } },
  });
  for (const required of ['from', 'to', 'out'] as const) if (values[required] === undefined) throw new UsageError(`--${required} is required`, backfillUsage);
  const from = hourOption('--from', values.from!, backfillUsage);
  const to = hourOption('--to', values.to!, backfillUsage);
  if (to < from) throw new UsageError(`--to ${values.to} comes before --from ${values.from}`, backfillUsage);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UsageError(`--concurrency: ${values.concurrency} is not a whole number from 1 to 256`, backfillUsage);
  const match = fieldMatcher(values, backfillUsage);
  const log = commandLogger(values.verbose, 'info');
  const source = openSource(values, log, backfillUsage);
  const target = storeOption('--out', values.out!, backfillUsage, { log });
  const hours = (to.getTime() - from.getTime()) / HOUR_MS + 1;
  // Off a terminal (a container's log, a CI job) the 'backfill progress' lines alone: the log stays JSON lines.
  const bar = values.quiet || !process.stderr.isTTY ? undefined : new ProgressBar(hours, 'hours');
  const started = Date.now();
  let handled = 0;
  let lastLogged = 0;
  const logProgress = () => {
    handled++;
    if (Date.now() - lastLogged < 10_000 && handled < hours) return;
    lastLogged = Date.now();
    const rate = handled / Math.max((lastLogged - started) / 1000, 1e-3);
    log.info({ handled, hours, rate, etaSeconds: (hours - handled) / rate }, 'backfill progress');
  };

  const controller = new AbortController();
  const stop = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    // One backfill per --out at a time.
    const lease = await acquireLease(target, { owner: leaseOwner(), log, signal: controller.signal, kind: BACKFILL_LEASE });
    if (!lease) throw controller.signal.reason as Error;
    lease.lost.addEventListener('abort', () => controller.abort(lease.lost.reason));
    try {
      const summary = await runBackfill(
        {
          source,
          out: target,
          match,
          from,
          to,
          concurrency,
          product: { domain: values.domain, product: values.product },
          onEvent: (event) => {
            bar?.tick();
            logProgress();
            const hour = formatHour(event.kind === 'gap' ? event.time : event.analysis.time);
            if (event.kind === 'done') out(JSON.stringify({ hour, status: 'done', key: event.analysis.key, bytes: event.bytes, fields: event.fields }));
            else if (event.kind === 'gap') out(JSON.stringify({ hour, status: 'gap' }));
            else out(JSON.stringify({ hour, status: event.kind, key: event.analysis.key, stage: event.error.stage, error: event.error.message }));
          },
        },
        { log, signal: controller.signal },
      );
      bar?.finish();
      out(JSON.stringify({ summary: { hours, ...summary } }));
      if (summary.failed + summary.deadLetters > 0) throw new Error(`${summary.failed} analyses failed and ${summary.deadLetters} were rejected (see their lines)`);
    } finally {
      await lease.release();
    }
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}
