/**
 * The long-running trainer: a retraining at each scheduled time and on each request, one at a
 * time. A trigger that comes while a run is under way waits for it; several waiting triggers make
 * one run (forced if any of them asked for force). Stopping interrupts the run under way at its
 * next step, after a checkpoint, so the next start of the trainer resumes it; triggers still
 * waiting are not handled, so requests among them are heard again by the next trainer. When
 * reading requests fails, the trainer ends with that error once the run under way is over (its
 * supervisor starts it again), rather than go on deaf to requests.
 */
import type { StageLogger } from '../stages/stage.js';
import type { Schedule } from './schedule.js';

export interface Trigger {
  kind: 'schedule' | 'request' | 'unfinished';
  /** When it was due (schedule) or asked for (request). */
  at: Date;
  force: boolean;
  reason: string;
  /** The run to resume, for a run a previous trainer left unfinished. */
  runId?: string;
  /**
   * For a request, its place on the topic ("PARTITION-OFFSET"): with `at` it names the request's
   * run, so a request heard again names the run it started, and two requests of one time (a
   * request sent again by hand, with its requestedAt) make two runs.
   */
  place?: string;
  /** Called once the run this trigger started has ended (finished, failed or checkpointed on stop): a request is then committed. */
  handled?: () => Promise<void>;
}

export interface TrainerOptions {
  schedule: Schedule;
  /** One retraining; it stops early, checkpointed, when `signal` aborts. Its errors are logged, not fatal. */
  retrain: (trigger: Trigger, signal: AbortSignal) => Promise<void>;
  /** Triggers from elsewhere (requests on the bus): read until the trainer has stopped and its last run has ended. */
  requests?: (signal: AbortSignal, push: (trigger: Trigger) => void) => Promise<void>;
  /** Triggers to handle first (a run a previous trainer left unfinished, a scheduled time missed). */
  initial?: Trigger[];
  /** Called once the run of a scheduled time has ended (as a trigger's `handled`): the time is then done. */
  scheduledDone?: (at: Date) => Promise<void>;
  stop: AbortSignal;
  log: StageLogger;
  now?: () => number;
}

export async function runTrainer({ schedule, retrain, requests, initial = [], scheduledDone, stop, log, now = Date.now }: TrainerOptions): Promise<void> {
  const waiting: Trigger[] = [...initial];
  let wake: () => void = () => {};
  const push = (trigger: Trigger) => {
    waiting.push(trigger);
    wake();
  };
  const running = new AbortController();
  stop.addEventListener('abort', () => {
    running.abort();
    wake();
  });

  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const [next] = schedule.next(new Date(now()));
    log.info({ next: next!.toISOString(), schedule: schedule.expression }, 'next scheduled retraining');
    // setTimeout waits at most 2^31 - 1 ms (24.8 days): a later time re-arms on the way.
    const delay = Math.min(next!.getTime() - now(), 2 ** 31 - 1);
    timer = setTimeout(() => {
      if (now() >= next!.getTime()) push({ kind: 'schedule', at: next!, force: false, reason: `scheduled (${schedule.expression})`, ...(scheduledDone && { handled: () => scheduledDone(next!) }) });
      arm();
    }, Math.max(0, delay));
  };
  arm();
  const stopReading = new AbortController();
  let readingFailed: { error: unknown } | undefined;
  const reading = requests?.(stopReading.signal, push).catch((error: unknown) => {
    readingFailed = { error };
    wake();
  });

  try {
    while (!stop.aborted && !readingFailed) {
      if (waiting.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      // A run to resume goes alone; new runs asked for meanwhile make one.
      const resume = waiting.findIndex((item) => item.runId !== undefined);
      const batch = waiting.splice(0, resume === 0 ? 1 : resume < 0 ? waiting.length : resume);
      const trigger = { ...batch[0]!, force: batch.some((item) => item.force), reason: batch.map((item) => item.reason).join('; ') };
      log.info({ kind: trigger.kind, at: trigger.at.toISOString(), force: trigger.force, reason: trigger.reason, merged: batch.length }, 'retraining');
      try {
        await retrain(trigger, running.signal);
      } catch (error) {
        log.error({ err: error, kind: trigger.kind }, `retraining failed: ${(error as Error).message}`);
      }
      for (const item of batch) {
        await item.handled?.().catch((error: unknown) => log.error({ err: error, kind: item.kind, reason: item.reason }, `a handled trigger could not be marked so: ${(error as Error).message}`));
      }
    }
  } finally {
    clearTimeout(timer);
    stopReading.abort();
    await reading;
  }
  if (readingFailed) {
    const { error } = readingFailed;
    throw new Error(`reading retrain requests failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
