import { CronExpressionParser } from 'cron-parser';

/** A cron expression that cannot be: the message says what is wrong with it. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

/**
 * When scheduled runs happen: a cron expression of 5 fields (minute hour day-of-month month
 * day-of-week) or 6 (seconds first), or a name such as @daily, in UTC. cron-parser fills in
 * missing fields, so "* * *" would silently mean every minute: fewer fields are refused here.
 */
export class Schedule {
  private constructor(readonly expression: string) {}

  static parse(expression: string): Schedule {
    const fields = expression.trim().split(/\s+/).filter(Boolean);
    const named = fields.length === 1 && fields[0]!.startsWith('@');
    if (!named && (fields.length < 5 || fields.length > 6)) {
      throw new ScheduleError(`${JSON.stringify(expression)} has ${fields.length} fields: a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 (seconds first), e.g. "0 3 * * *" for 03:00 UTC every day`);
    }
    try {
      CronExpressionParser.parse(expression, { tz: 'UTC', strict: false }).next();
    } catch (error) {
      throw new ScheduleError(`${JSON.stringify(expression)} is not a cron expression: ${(error as Error).message}`);
    }
    return new Schedule(expression);
  }

  /** The next `count` run times strictly after `after`. */
  next(after: Date, count = 1): Date[] {
    const cron = CronExpressionParser.parse(this.expression, { tz: 'UTC', currentDate: after });
    return Array.from({ length: count }, () => cron.next().toDate());
  }

  /** The latest run time at or before `at`. */
  latest(at: Date): Date {
    const cron = CronExpressionParser.parse(this.expression, { tz: 'UTC', currentDate: new Date(at.getTime() + 1) });
    return cron.prev().toDate();
  }
}
