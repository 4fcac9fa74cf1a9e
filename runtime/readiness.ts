/**
 * Whether the consumer should be sent work (`/readyz`): once its model is loaded and its pipeline
 * is running (progress read from the state store, topics there on the bus), until it starts
 * draining after SIGTERM or SIGINT.
 */
export class Readiness {
  private modelLoaded = false;
  private pipelineRunning = false;
  private isDraining = false;

  modelIsLoaded(): void {
    this.modelLoaded = true;
  }

  pipelineIsRunning(): void {
    this.pipelineRunning = true;
  }

  draining(): void {
    this.isDraining = true;
  }

  /** Ready, or why not. */
  check(): { ready: true } | { ready: false; reason: string } {
    if (this.isDraining) return { ready: false, reason: 'draining: finishing the analyses in flight before exit' };
    if (!this.modelLoaded) return { ready: false, reason: 'loading the model' };
    if (!this.pipelineRunning) return { ready: false, reason: 'starting the pipeline: reading progress, creating topics' };
    return { ready: true };
  }
}
