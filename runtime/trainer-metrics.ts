import { Counter, Gauge, type Registry } from 'prom-client';
import type { Schedule } from '../training/schedule.js';

/** How a run of the trainer ended: its candidate promoted or not, checkpointed on a stop, or failed. */
export const RUN_OUTCOMES = ['promoted', 'not-promoted', 'stopped', 'failed'] as const;
export type RunOutcomeLabel = (typeof RUN_OUTCOMES)[number];

/** The trainer's metrics (the README's trainer table lists them): runs by outcome, the run under way, the schedule, the lease. */
export class TrainerMetrics {
  private readonly runs: Counter<'outcome'>;
  private readonly stepsTaken: Counter;
  private readonly inProgress: Gauge;
  private readonly step: Gauge;
  private readonly plannedSteps: Gauge;
  private readonly loss: Gauge;
  private readonly lastSuccess: Gauge;
  private lastSuccessSeconds = 0;
  private readonly leaseHeld: Gauge;
  private readonly clock: () => number;

  constructor(registry: Registry, { schedule, clock = Date.now }: { schedule: Schedule; clock?: () => number }) {
    const registers = [registry];
    this.runs = new Counter({ name: 'hrrr_embed_training_runs_total', help: 'Training runs ended, by outcome: promoted, not-promoted (saved, not better), stopped (checkpointed on SIGTERM or SIGINT), failed', labelNames: ['outcome'], registers });
    for (const outcome of RUN_OUTCOMES) this.runs.labels(outcome).inc(0);
    this.stepsTaken = new Counter({ name: 'hrrr_embed_training_steps_total', help: 'Training steps taken by this process: flat while a run is in progress means a run stuck', registers });
    this.inProgress = new Gauge({ name: 'hrrr_embed_training_in_progress', help: '1 while a training run is under way (compacting, training, judging, promoting), else 0', registers });
    this.step = new Gauge({ name: 'hrrr_embed_training_step', help: 'The last step done of the run under way (or of the last run)', registers });
    this.plannedSteps = new Gauge({ name: 'hrrr_embed_training_planned_steps', help: 'The steps of the run under way (or of the last run)', registers });
    this.loss = new Gauge({ name: 'hrrr_embed_training_loss', help: 'Training loss (LogCosh) of the last step of the run under way (or of the last run)', registers });
    this.lastSuccess = new Gauge({ name: 'hrrr_embed_training_last_success_timestamp_seconds', help: "Unix time the last run ended with its candidate saved and judged (promoted or not): this process's, or, from when it takes the lease, the last finished run's record in the model store; 0 until then", registers });
    new Gauge({
      name: 'hrrr_embed_training_next_scheduled_timestamp_seconds',
      help: 'Unix time of the next scheduled run',
      registers,
      collect() {
        this.set(schedule.next(new Date(clock()))[0]!.getTime() / 1000);
      },
    });
    this.leaseHeld = new Gauge({ name: 'hrrr_embed_trainer_lease_held', help: "1 while this trainer holds the model store's trainer lease, else 0 (waiting for another trainer, or stopped)", registers });
    this.clock = clock;
  }

  holdsLease(held: boolean): void {
    this.leaseHeld.set(held ? 1 : 0);
  }

  /** The last finished run recorded in the model store (by an earlier process): the last success, unless this one has a later one. */
  finishedBefore(at: Date): void {
    this.succeededAt(at.getTime() / 1000);
  }

  runStarted(): void {
    this.inProgress.set(1);
  }

  /** One step done: `step` of `steps`, at `loss`. */
  progress({ step, steps, loss }: { step: number; steps: number; loss: number }): void {
    this.stepsTaken.inc();
    this.step.set(step);
    this.plannedSteps.set(steps);
    this.loss.set(loss);
  }

  runEnded(outcome: RunOutcomeLabel): void {
    this.inProgress.set(0);
    this.runs.labels(outcome).inc();
    if (outcome === 'promoted' || outcome === 'not-promoted') this.succeededAt(this.clock() / 1000);
  }

  private succeededAt(seconds: number): void {
    this.lastSuccessSeconds = Math.max(this.lastSuccessSeconds, seconds);
    this.lastSuccess.set(this.lastSuccessSeconds);
  }
}
