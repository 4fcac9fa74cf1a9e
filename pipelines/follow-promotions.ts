import type { BusConsumer } from '../bus/bus.js';
import { promotedVersion } from '../model/versions.js';
import type { StageLogger } from '../stages/stage.js';
import { abortedBy } from '../store/aborted-by.js';
import type { ObjectStore } from '../store/object-store.js';
import { ModelSwapError, type ModelSlot, type ServedModel } from './model-slot.js';

export interface PromotionFollowerConfig {
  /** The model store the running version came from: its promoted pointer names the version to serve. */
  models: ObjectStore;
  slot: ModelSlot;
  /** Loads a version for serving (its weights, its encoder thread); `signal` aborts its requests: the follower was stopped. */
  load(version: string, signal: AbortSignal): Promise<ServedModel>;
  /** A consumer of the model-versions topic: an announcement makes the follower look at once. */
  announcements?: BusConsumer;
  /** How often the pointer is read when nothing is announced (announcements can be missed). */
  pollMs: number;
  log: StageLogger;
  /**
   * Called after each look that found a version promoted: the version served, and, when it is not
   * the promoted one (which could not be loaded or swapped in), which is and why.
   */
  onLook?(served: string, notPromoted?: { promoted: string; reason: string }): void;
}

/**
 * Keeps a running consumer on the promoted model version until `signal` aborts: reads the
 * promoted pointer when a promotion is announced and every `pollMs`, and swaps the new version in
 * (ModelSlot: between batches). The pointer is the truth, so a rollback (promoting an older
 * version again) is followed too. A version that fails to load is tried again at the next look;
 * one that cannot be swapped in without a restart is reported once and left.
 */
export async function followPromotions(config: PromotionFollowerConfig, signal: AbortSignal): Promise<void> {
  const { models, slot, load, announcements, pollMs, log, onLook } = config;
  // Versions that cannot be swapped in without a restart, and why.
  const refused = new Map<string, string>();
  // An announcement that comes while the pointer is being read makes it read again at once.
  let announced = false;
  let wake: () => void = () => {};
  const listening = announcements && listen(announcements, () => ((announced = true), wake()), signal, log);
  // A stop ends a look at once, even one waiting on a model store that no longer answers.
  const pointer = abortedBy(models, signal);

  while (!signal.aborted) {
    announced = false;
    try {
      const promoted = await promotedVersion(pointer);
      if (promoted !== undefined) {
        const reason = promoted === slot.current.autoencoder.version ? undefined : await take(promoted);
        onLook?.(slot.current.autoencoder.version, reason === undefined ? undefined : { promoted, reason });
      }
    } catch (error) {
      if (!signal.aborted) log.error({ err: error, models: models.url }, 'could not read which model version is promoted; still serving the current one');
    }
    // A stop that came while it looked (loading a version takes seconds) fires no abort event for
    // the wait below: it would wait out pollMs, and the consumer's shutdown with it.
    if (announced || signal.aborted) continue;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollMs);
      signal.addEventListener('abort', done, { once: true });
      wake = done;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    });
  }
  await listening;

  /** Swaps `version` in; or says why it is not, with what is served still. */
  async function take(version: string): Promise<string | undefined> {
    const refusal = refused.get(version);
    if (refusal !== undefined) return refusal;
    try {
      await slot.replace(await load(version, signal));
      return undefined;
    } catch (error) {
      // Stopped while it loaded: no reason to give, nothing to report.
      if (signal.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      const reason = error instanceof ModelSwapError ? message : `cannot be loaded: ${message}`;
      if (error instanceof ModelSwapError) refused.set(version, reason);
      log.error({ err: error, models: models.url, promoted: version }, 'could not take the promoted model version; still serving the current one');
      return reason;
    }
  }
}

async function listen(consumer: BusConsumer, announced: () => void, signal: AbortSignal, log: StageLogger): Promise<void> {
  try {
    for await (const _ of consumer.records(signal)) announced();
  } catch (error) {
    if (!signal.aborted) log.warn({ err: error }, 'model-versions topic unreadable: following promotions by polling only');
  } finally {
    await consumer.close();
  }
}
