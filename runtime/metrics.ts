import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventOutcome } from '../pipelines/consume-events.js';
import type { IngestEvent } from '../pipelines/ingest.js';
import { floorHour, HOUR_MS } from '../stages/sources/hrrr-archive.js';
import type { BuildInfo } from './build-info.js';
import type { Stage } from '../stages/stage.js';
import { timed } from './timed.js';

const OUTCOMES = ['done', 'gap', 'dead-letter', 'failed'] as const satisfies readonly IngestEvent['kind'][];

/** From a millisecond (a small field's normalize) to a minute (a fetch through retries). */
const STAGE_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A registry with the process's default metrics (CPU, memory, event loop lag, GC) and the build's, which every consumer metric joins. */
export function processRegistry(build: BuildInfo): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerBuildInfo(registry, build);
  return registry;
}

/** hrrr_embed_build_info{version, commit} 1: which build serves these metrics, for a rolling upgrade, where two run side by side. */
export function registerBuildInfo(registry: Registry, { version, commit }: BuildInfo): void {
  new Gauge({ name: 'hrrr_embed_build_info', help: "1, labelled with the running build's package.json version and git commit (unknown where the build does not know it)", labelNames: ['version', 'commit'], registers: [registry] }).labels(version, commit).set(1);
}

export interface ConsumerMetricsConfig {
  /** The model line and version in use: the labels of hrrr_embed_model_info; `notPromoted` when a version other than the promoted one is served. */
  model: { id: string; version: string; notPromoted?: boolean };
  /** The hours the consumer covers: lag is counted from `from` until an analysis is done, and up to `to` at most. */
  from: Date;
  to?: Date;
  clock?: () => number;
}

/** The consumer's metrics (the README's table lists them): outcomes, stage latencies, bytes, errors, lag, model in use. */
export class ConsumerMetrics {
  private readonly analyses: Counter<'outcome'>;
  private readonly stageSeconds: Histogram<'stage'>;
  private readonly bytesFetched: Counter;
  private readonly errors: Counter<'stage' | 'class'>;
  private readonly alerts: Counter;
  private readonly encodeBatchSize: Histogram;
  private readonly modelInfo: Gauge<'model_id' | 'model_version'>;
  private readonly modelNotPromoted: Gauge;
  private newestDone: number | undefined;
  private newestHandled: number | undefined;

  constructor(registry: Registry, { model, from, to, clock = Date.now }: ConsumerMetricsConfig) {
    const registers = [registry];
    this.analyses = new Counter({ name: 'hrrr_embed_analyses_total', help: 'Analyses handled, by outcome: done, gap, dead-letter, failed', labelNames: ['outcome'], registers });
    for (const outcome of OUTCOMES) this.analyses.labels(outcome).inc(0);
    this.stageSeconds = new Histogram({ name: 'hrrr_embed_stage_duration_seconds', help: 'Seconds a stage spent on one input (fetch: one analysis; decode: one message; normalize, encode, publish, shard: one field)', labelNames: ['stage'], buckets: STAGE_SECONDS_BUCKETS, registers });
    this.bytesFetched = new Counter({ name: 'hrrr_embed_fetched_bytes_total', help: 'GRIB2 bytes fetched for the analyses done', registers });
    this.encodeBatchSize = new Histogram({ name: 'hrrr_embed_encode_batch_size', help: 'Fields encoded together in one pass of the model', buckets: [1, 2, 4, 8, 16, 32, 64], registers });
    this.alerts = new Counter({ name: 'hrrr_embed_alerts_total', help: "Alerts published: fields whose reconstruction error passed their model version's threshold", registers });
    this.errors = new Counter({ name: 'hrrr_embed_errors_total', help: "Analyses rejected or failed, by the stage and the class (the error's name) of the cause", labelNames: ['stage', 'class'], registers });
    const secondsSince = (time: number) => (clock() - time) / 1000;
    const self = this;
    // Seconds, Prometheus's base unit (it was hrrr_embed_lag_hours until this build).
    new Gauge({
      name: 'hrrr_embed_lag_seconds',
      help: 'Seconds from the newest analysis done (its valid time) to now (from the hour before the first hour, while none is done)',
      registers,
      collect() {
        this.set(secondsSince(self.newestDone ?? from.getTime() - HOUR_MS));
      },
    });
    new Gauge({
      name: 'hrrr_embed_analyses_behind',
      help: 'Hours after the newest one handled (done, gap or dead letter) up to now (or the last hour asked for): analyses still to come',
      registers,
      collect() {
        const last = Math.min(floorHour(clock()), to?.getTime() ?? Infinity);
        this.set(Math.max(0, Math.round((last - (self.newestHandled ?? from.getTime() - HOUR_MS)) / HOUR_MS)));
      },
    });
    this.modelInfo = new Gauge({ name: 'hrrr_embed_model_info', help: 'The model in use: 1, labelled with its model line and version', labelNames: ['model_id', 'model_version'], registers });
    this.modelNotPromoted = new Gauge({ name: 'hrrr_embed_model_not_promoted', help: '1 while the model version in use is not the promoted one, which could not be loaded or swapped in (the log and /readyz say why), else 0', registers });
    this.modelInUse(model.id, model.version, model.notPromoted);
  }

  /** The model now in use (after a hot swap): its labels replace the previous version's. */
  modelInUse(id: string, version: string, notPromoted = false): void {
    this.modelInfo.reset();
    this.modelInfo.labels(id, version).set(1);
    this.modelNotPromoted.set(notPromoted ? 1 : 0);
  }

  /** Times each input the stage processes under its name: what the pipelines' `instrument` hook takes. */
  readonly instrument = <In, Out>(stage: Stage<In, Out>): Stage<In, Out> => timed(stage, this.stageSeconds.labels(stage.name));

  /** Counts what the event-driven consumer did with an object an event named. */
  recordOutcome(outcome: EventOutcome): void {
    this.analyses.labels(outcome.kind).inc();
    if (outcome.kind === 'dead-letter') this.errors.labels(outcome.stage, outcome.errorClass).inc();
    // A dead letter is handled, as it is when polling; a malformed event names no hour.
    if (outcome.kind === 'ignored' || outcome.hour === null) return;
    const time = Date.parse(outcome.hour.replace(/Z$/, ':00:00Z'));
    this.newestHandled = Math.max(this.newestHandled ?? time, time);
    if (outcome.kind === 'done') {
      this.newestDone = Math.max(this.newestDone ?? time, time);
      this.bytesFetched.inc(outcome.bytes);
    }
  }

  /** Counts one alert published: what the consumers' `onAlert` takes. */
  readonly recordAlert = (): void => this.alerts.inc();

  /** Records the size of one batch the encoder ran: what the encode stage's `onBatch` takes. */
  readonly recordEncodeBatch = (size: number): void => this.encodeBatchSize.observe(size);

  /** Counts one of the pipeline's events. */
  record(event: IngestEvent): void {
    this.analyses.labels(event.kind).inc();
    const time = (event.kind === 'gap' ? event.time : event.analysis.time).getTime();
    if (event.kind !== 'failed') this.newestHandled = Math.max(this.newestHandled ?? time, time);
    if (event.kind === 'done') {
      this.newestDone = Math.max(this.newestDone ?? time, time);
      this.bytesFetched.inc(event.bytes);
    }
    if (event.kind === 'dead-letter' || event.kind === 'failed') {
      const cause = event.error.cause;
      this.errors.labels(event.error.stage, cause instanceof Error ? cause.name : typeof cause).inc();
    }
  }
}
