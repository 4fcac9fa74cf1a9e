/**
 * Scheduled runs that did not happen: the trainer was down at their time (an upgrade, an outage),
 * or was killed (SIGKILL, out of memory, a node drained) in one before its first checkpoint, so
 * no run record resumes it. The model store keeps training/schedule.json: the latest scheduled
 * time whose run has ended (or was checkpointed on stop: its run record resumes it), or, before
 * any, when a trainer first started. A trainer taking the lease runs the latest scheduled time
 * after it once, as cron's catch-up does (a Kubernetes CronJob's startingDeadlineSeconds,
 * systemd's Persistent=true): not one run per missed time, and none older than the catch-up window.
 */
import { ObjectNotFoundError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import type { StageLogger } from '../stages/stage.js';
import type { Schedule } from './schedule.js';
import type { Trigger } from './trainer.js';

export const SCHEDULE_RECORD_KEY = 'training/schedule.json';

interface ScheduleRecord {
  /** Scheduled times up to this one need no run. */
  doneThrough: string;
  schedule: string;
}

/** The run id of a run due (scheduled) or asked for at `at`: trainer-YYYYMMDDTHHMMSSZ. */
export function runIdAt(at: Date): string {
  return `trainer-${at.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

export async function readDoneThrough(models: ObjectStore): Promise<Date | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await models.get(SCHEDULE_RECORD_KEY);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw new Error(`${models.url}/${SCHEDULE_RECORD_KEY}: ${(error as Error).message}`, { cause: error });
  }
  const unreadable = (why: string) => new Error(`${models.url}/${SCHEDULE_RECORD_KEY}: ${why} (delete the file to start the record again from now)`);
  let record: ScheduleRecord;
  try {
    record = JSON.parse(new TextDecoder().decode(bytes)) as ScheduleRecord;
  } catch (error) {
    throw unreadable(`not JSON (${(error as Error).message})`);
  }
  const through = new Date(record?.doneThrough);
  if (Number.isNaN(through.getTime())) throw unreadable(`doneThrough ${JSON.stringify(record?.doneThrough)} is not a time`);
  return through;
}

/** Records that scheduled times up to `at` need no run; a record already later stays. */
export async function recordDoneThrough(models: ObjectStore, schedule: Schedule, at: Date): Promise<void> {
  const through = await readDoneThrough(models);
  if (through && through >= at) return;
  const record: ScheduleRecord = { doneThrough: at.toISOString(), schedule: schedule.expression };
  await models.put(SCHEDULE_RECORD_KEY, new TextEncoder().encode(`${JSON.stringify(record)}\n`), { contentType: 'application/json' });
}

/** The scheduled time to catch up: the latest at or before `now`, when it is after `doneThrough` and no older than `windowMs`. */
export function missedScheduledTime(schedule: Schedule, doneThrough: Date, now: Date, windowMs: number): { due: Date; tooOld: boolean } | undefined {
  const due = schedule.latest(now);
  if (due <= doneThrough) return undefined;
  return { due, tooOld: windowMs === 0 || now.getTime() - due.getTime() > windowMs };
}

export interface StartingOptions {
  models: ObjectStore;
  schedule: Schedule;
  /** Runs a previous trainer left unfinished, resumed first. */
  unfinished: string[];
  catchUpHours: number;
  log: StageLogger;
  now?: Date;
}

/**
 * The triggers a trainer starts with, once it holds the lease: the unfinished runs, then the
 * scheduled time missed, if any (when its run is among the unfinished, resuming it is catching it
 * up). Each scheduled trigger's `handled` records its time done. The first trainer of a model
 * store records its start, so that no time before it is caught up.
 */
export async function startingTriggers({ models, schedule, unfinished, catchUpHours, log, now = new Date() }: StartingOptions): Promise<Trigger[]> {
  const done = (at: Date) => () => recordDoneThrough(models, schedule, at);
  const triggers = unfinished.map((runId): Trigger => ({ kind: 'unfinished', at: now, force: false, reason: `resuming ${runId}`, runId }));
  const through = await readDoneThrough(models);
  if (through === undefined) {
    await recordDoneThrough(models, schedule, now);
    return triggers;
  }
  const missed = missedScheduledTime(schedule, through, now, catchUpHours * 3_600_000);
  if (!missed) return triggers;
  const fields = { due: missed.due.toISOString(), doneThrough: through.toISOString(), schedule: schedule.expression, catchUpHours };
  if (missed.tooOld) {
    log.warn(fields, `a scheduled retraining was missed, longer ago than --catch-up-hours ${catchUpHours}: not caught up; the next one runs at its time`);
    return triggers;
  }
  log.info(fields, 'a scheduled retraining was missed (no trainer ran then, or it stopped before its first checkpoint): catching it up once');
  const resuming = triggers.find(({ runId }) => runId === runIdAt(missed.due));
  if (resuming) {
    resuming.handled = done(missed.due);
    return triggers;
  }
  return [...triggers, { kind: 'schedule', at: missed.due, force: false, reason: `scheduled (${schedule.expression}), missed: caught up`, handled: done(missed.due) }];
}
