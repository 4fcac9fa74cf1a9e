import { buildInfo, type BuildInfo } from '../runtime/build-info.js';
import { loadTrainerSettings, type TRAINER_SETTINGS } from '../runtime/config.js';
import type { LoadedSettings } from '../runtime/settings.js';
import { TrainerMetrics } from '../runtime/trainer-metrics.js';
import { TrainerReadiness } from '../runtime/trainer-readiness.js';
import { Watchdog } from '../runtime/watchdog.js';
import { runRecords } from '../training/checkpoints.js';
import { retrainRequests } from '../training/requests.js';
import { RunInterrupted, type TrainingProgress } from '../training/retrain.js';
import { Schedule, ScheduleError } from '../training/schedule.js';
import { recordDoneThrough, runIdAt, startingTriggers } from '../training/scheduled-runs.js';
import type { HeldLease } from '../store/lease.js';
import { runTrainer, type Trigger } from '../training/trainer.js';
import { handleStopSignals, holdingTrainerLease, prepareRetraining, retrainOptionsUsage, runRetraining } from './retrain.js';
import { serveOperations } from './operations.js';
import { logFailure } from './sources.js';
import { settingsOrUsage, UsageError } from './usage.js';

export const trainerUsage = `usage: hrrr-embed trainer --schedule "CRON" --models LOC --shards LOC [OPTIONS]

Runs as a service: a retraining (as hrrr-embed retrain does it) at every time of the cron
schedule, in UTC, and whenever a request arrives on the retrain-requests topic (Avro, see
schemas/retrain-requests.value.avsc), never two at once: what comes during a run waits for it,
and several waiting requests make one run. Each run's id is trainer-YYYYMMDDTHHMMSSZ, when it was due or asked for,
and for a request -request-PARTITION-OFFSET, its place on the topic (a request heard again names its run).
A run that a previous trainer left unfinished (stopped or crashed) is resumed first. SIGINT or
SIGTERM stops the run under way at its next step, with a checkpoint, and exits 0; a second
signal stops at once, without it (exit status 1). One trainer
per model store: a second waits until the first stops (or stops renewing its lease for a minute).

  --schedule CRON    5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first),
                     or @daily, @weekly...: "0 3 * * *" is 03:00 UTC every day
  --print-next N     print the next N scheduled times as JSON and exit
  --catch-up-hours N a scheduled time missed (no trainer ran then, or it was killed in that run
                     before its first checkpoint) is run once at the start, when at most N hours
                     ago (default 24; 0: never)
  --group G          the consumer group reading retrain-requests (default hrrr-embed-trainer)
  --metrics-port N   serve GET /metrics (Prometheus), /healthz and /readyz on port N (0: a free
                     one, logged); --metrics-host H (default 127.0.0.1; 0.0.0.0 or :: in a container)
  --stall-seconds S  /healthz answers 503 once a training run has not taken a step, or a request
                     to the model store (in a run or between runs) has not answered, for S seconds
                     (default 3600: a step of the seed model on cpu takes about 31 minutes)
${retrainOptionsUsage}`;

/** What the trainer's work is given: its settings and schedule, and what its operations port reports. */
interface TrainerParts {
  values: LoadedSettings<typeof TRAINER_SETTINGS>['values'];
  origin: LoadedSettings<typeof TRAINER_SETTINGS>['origin'];
  given: LoadedSettings<typeof TRAINER_SETTINGS>['given'];
  schedule: Schedule;
  readiness: TrainerReadiness;
  /** /healthz: a run's steps and each model store request must move within --stall-seconds. */
  watchdog: Watchdog;
  build: BuildInfo;
  /** With --metrics-port. */
  metrics?: TrainerMetrics;
  operationsUrl?: string;
}

export async function trainerCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values, origin, given } = settingsOrUsage(() => loadTrainerSettings(args, process.env), trainerUsage);
  if (values.schedule === undefined) throw new UsageError('--schedule is required', trainerUsage);
  let schedule;
  try {
    schedule = Schedule.parse(values.schedule);
  } catch (error) {
    if (error instanceof ScheduleError) throw new UsageError(`${origin('schedule')}: ${error.message}`, trainerUsage);
    throw error;
  }
  if (values.printNext !== undefined) {
    out(JSON.stringify({ schedule: values.schedule, next: schedule.next(new Date(), values.printNext).map((time) => time.toISOString()) }));
    return;
  }
  // Up before the setup (the backend, the schema registry) and the wait for the lease, which can be long: a liveness probe must find it meanwhile.
  const readiness = new TrainerReadiness();
  // Idle between runs is healthy however long: the next may be a day away.
  const watchdog = new Watchdog({ stallMs: values.stallSeconds * 1000 });
  const build = buildInfo();
  const operations = await serveOperations(values, origin, { readiness, liveness: watchdog, build }, trainerUsage);
  if (operations) watchdog.registerGauges(operations.registry, 'hrrr_embed_trainer');
  try {
    await train({ values, origin, given, schedule, readiness, watchdog, build, ...(operations && { metrics: new TrainerMetrics(operations.registry, { schedule }), operationsUrl: operations.url }) }, out);
  } finally {
    await operations?.close();
  }
}

/** Everything after the operations server: the setup, the lease, the runs. */
async function train({ values, origin, given, schedule, readiness, watchdog, build, metrics, operationsUrl }: TrainerParts, out: (line: string) => void): Promise<void> {
  // Between runs too (the lease, the schedule record, the run records), a model store request that never answers is a stall.
  const setup = await prepareRetraining(values, { origin, given }, trainerUsage, (models) => watchdog.store(models, 'model'));
  const { bus, codec, log } = setup;
  log.info({ build }, `trainer starting: hrrr-embed ${build.version}, commit ${build.commit}`);
  if (operationsUrl) log.info({ url: operationsUrl }, `metrics on ${operationsUrl}/metrics, liveness on /healthz, readiness on /readyz`);
  const stop = new AbortController();
  stop.signal.addEventListener('abort', () => readiness.stopping());
  const unhandleSignals = handleStopSignals(log, stop, 'checkpointing the run under way, if any');

  /** Runs a previous trainer left unfinished, found at the start. */
  const leftUnfinished = new Set<string>();
  const runIdOf = (trigger: Trigger) => {
    if (trigger.runId) return trigger.runId;
    const byTime = runIdAt(trigger.at);
    // Builds before the place was part of the name named a request's run by its time alone: a
    // request such a build left uncommitted (killed in its run) names that run, not a second one.
    if (!trigger.place || leftUnfinished.has(byTime)) return byTime;
    return `${byTime}-request-${trigger.place}`;
  };
  const retrainOnce = async (lease: HeldLease, trigger: Trigger, signal: AbortSignal) => {
    const runId = runIdOf(trigger);
    metrics?.runStarted();
    const running = watchdog.begin(`training run ${runId} (its next step)`);
    const onStep = (progress: TrainingProgress) => {
      running.moved();
      metrics?.progress(progress);
    };
    try {
      const result = await runRetraining(setup, { runId, force: trigger.force, ...setup.range(new Date()), confirmLease: lease.confirm }, values.quiet, out, signal, onStep);
      metrics?.runEnded(result.promoted ? 'promoted' : 'not-promoted');
      out(JSON.stringify(result));
    } catch (error) {
      metrics?.runEnded(error instanceof RunInterrupted ? 'stopped' : 'failed');
      if (!(error instanceof RunInterrupted)) throw error;
      out(JSON.stringify({ runId, interrupted: error.step, resume: 'resumed at the next start of the trainer' }));
    } finally {
      running.end();
    }
  };
  try {
    await holdingTrainerLease(
      setup.base.models,
      setup.log,
      stop,
      async (lease) => {
        readiness.waiting(undefined);
        metrics?.holdsLease(true);
        lease.lost.addEventListener('abort', () => {
          readiness.failing(lease.lost.reason);
          metrics?.holdsLease(false);
        });
        const records = await runRecords(setup.base.models);
        for (const runId of records.unfinished) leftUnfinished.add(runId);
        // A restarted trainer's last success is its predecessors': an overdue alert must not start counting again.
        if (records.lastFinishedAt) metrics?.finishedBefore(records.lastFinishedAt);
        const initial = await startingTriggers({ models: setup.base.models, schedule, unfinished: [...leftUnfinished], catchUpHours: values.catchUpHours, log });
        const scheduledDone = (at: Date) => recordDoneThrough(setup.base.models, schedule, at);
        await runTrainer({ schedule, retrain: (trigger, signal) => retrainOnce(lease, trigger, signal), requests: retrainRequests(bus, codec, setup.base.models.url, values.group, log), initial, scheduledDone, stop: stop.signal, log });
      },
      (holder) => readiness.waiting(holder.owner),
    );
  } catch (error) {
    logFailure(log, 'trainer', error);
    throw error;
  } finally {
    metrics?.holdsLease(false);
    unhandleSignals();
    await bus.close();
  }
}
