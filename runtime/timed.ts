import type { Stage } from '../stages/stage.js';

/** Where a timed stage reports how long it took over one input, in seconds (a prom-client Histogram is one). */
export interface DurationObserver {
  observe(seconds: number): void;
}

/**
 * The same stage, observing the seconds it spends on each input, whether it succeeds or throws.
 * Only the time inside the stage's own iterator counts: a caller works on each output before it
 * asks for the next (the ingest pipeline decodes each message inside fetch's loop), and that time
 * belongs to the caller's stages, not to this one.
 */
export function timed<In, Out>(stage: Stage<In, Out>, duration: DurationObserver, clockMs: () => number = () => performance.now()): Stage<In, Out> {
  return {
    name: stage.name,
    async *process(input, context) {
      const outputs = stage.process(input, context)[Symbol.asyncIterator]();
      let busyMs = 0;
      let finished = false;
      try {
        for (;;) {
          const started = clockMs();
          let step: IteratorResult<Out>;
          try {
            step = await outputs.next();
          } finally {
            busyMs += clockMs() - started;
          }
          if (step.done) {
            finished = true;
            return;
          }
          yield step.value;
        }
      } catch (error) {
        finished = true;
        throw error;
      } finally {
        // A caller that stops early must still close the stage's iterator, as yield* would.
        if (!finished) await outputs.return?.();
        duration.observe(busyMs / 1000);
      }
    },
  };
}
