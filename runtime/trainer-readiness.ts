import type { ReadinessCheck, ReadinessState } from './readiness.js';

/**
 * The trainer's `/readyz`: 503 until it holds the model store's trainer lease (taking it, or
 * waiting while another trainer holds it); 200 while it holds it, idle or training; 503 again from
 * SIGTERM or SIGINT on (it checkpoints the run under way and exits) and from a lost lease on (it
 * stops as on SIGTERM, then exits 1).
 */
export class TrainerReadiness implements ReadinessCheck {
  private waitingFor: string | undefined = 'starting: the backend, the bus, then the trainer lease of this model store';
  private isStopping = false;
  private failure: string | undefined;

  /** Waiting for the lease, held by `holder` (another trainer); undefined once this trainer holds it. */
  waiting(holder: string | undefined): void {
    this.waitingFor = holder === undefined ? undefined : `waiting for the trainer lease of this model store, held by ${holder}`;
  }

  stopping(): void {
    this.isStopping = true;
  }

  /** The trainer is ending with `cause`: never ready again; the first cause is the one given as the reason. */
  failing(cause: unknown): void {
    this.failure ??= cause instanceof Error ? cause.message : String(cause);
  }

  check(): ReadinessState {
    if (this.failure !== undefined) return { ready: false, reason: `failing, shutting down: ${this.failure}` };
    if (this.isStopping) return { ready: false, reason: 'stopping: checkpointing the run under way, if any' };
    if (this.waitingFor !== undefined) return { ready: false, reason: this.waitingFor };
    return { ready: true };
  }
}
