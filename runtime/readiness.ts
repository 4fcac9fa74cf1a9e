/** Ready, with a note to add, or why not: what `/readyz` says. */
export type ReadinessState = { ready: true; note?: string } | { ready: false; reason: string };

/** What the operations server asks for `/readyz`: the consumer's Readiness, the trainer's TrainerReadiness. */
export interface ReadinessCheck {
  check(): ReadinessState;
}

/**
 * Whether the consumer should be sent work (`/readyz`): not while it waits for the lease of its
 * progress record (another consumer holds it); once its model is loaded and its pipeline
 * is running (progress read from the state store, topics there on the bus; with events, its
 * consumer a member of its group), until it starts draining after SIGTERM or SIGINT, or its run
 * starts failing (it then closes what it opened, which can take seconds, and exits 1).
 */
export class Readiness implements ReadinessCheck {
  private modelLoaded = false;
  private pipelineRunning = false;
  private isDraining = false;
  private failure: string | undefined;
  private waitingFor: string | undefined;
  private notPromoted: string | undefined;

  /** Waiting for `what` (the lease of the progress record, which another consumer holds) before anything starts; undefined once it has it. */
  waiting(what: string | undefined): void {
    this.waitingFor = what;
  }

  modelIsLoaded(): void {
    this.modelLoaded = true;
  }

  pipelineIsRunning(): void {
    this.pipelineRunning = true;
  }

  /**
   * The model version served, and when it is not the promoted one (which could not be loaded or
   * swapped in), why. Still ready: it serves what consumers served before the promotion.
   */
  serving(version: string, notPromoted?: { promoted: string; reason: string }): void {
    this.notPromoted = notPromoted && `serving model version ${version}, not the promoted ${notPromoted.promoted}: ${notPromoted.reason}`;
  }

  draining(): void {
    this.isDraining = true;
  }

  /** The run is ending with `cause`: never ready again; the first cause is the one given as the reason. */
  failing(cause: unknown): void {
    this.failure ??= cause instanceof Error ? cause.message : String(cause);
  }

  /** Ready, or why not. */
  check(): ReadinessState {
    if (this.failure !== undefined) return { ready: false, reason: `failing, shutting down: ${this.failure}` };
    if (this.isDraining) return { ready: false, reason: 'draining: finishing the analyses in flight before exit' };
    if (this.waitingFor !== undefined) return { ready: false, reason: `waiting for ${this.waitingFor}` };
    if (!this.modelLoaded) return { ready: false, reason: 'loading the model' };
    if (!this.pipelineRunning) return { ready: false, reason: 'starting the pipeline: creating topics, reading progress or joining the consumer group' };
    return this.notPromoted === undefined ? { ready: true } : { ready: true, note: this.notPromoted };
  }
}
