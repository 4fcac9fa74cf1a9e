import type { BusConsumer } from '../bus/bus.js';
import { promotedVersion } from '../model/versions.js';
import type { StageLogger } from '../stages/stage.js';
import type { ObjectStore } from '../store/object-store.js';
import { ModelSwapError, type ModelSlot, type ServedModel } from './model-slot.js';

export interface PromotionFollowerConfig {
  /** The model store the running version came from: its promoted pointer names the version to serve. */
  models: ObjectStore;
  slot: ModelSlot;
  /** Loads a version for serving (its weights, its encoder thread). */
  load(version: string): Promise<ServedModel>;
  /** A consumer of the model-versions topic: an announcement makes the follower look at once. */
  announcements?: BusConsumer;
  /** How often the pointer is read when nothing is announced (announcements can be missed). */
  pollMs: number;
  log: StageLogger;
  /** Called after each swap, e.g. for the model-version metric. */
  onSwap?(version: string): void;
}

/**
 * Keeps a running consumer on the promoted model version until `signal` aborts: reads the
 * promoted pointer when a promotion is announced and every `pollMs`, and swaps the new version in
 * (ModelSlot: between batches). The pointer is the truth, so a rollback (promoting an older
 * version again) is followed too. A version that fails to load is tried again at the next look;
 * one that cannot be swapped in without a restart is reported once and left.
 */
export async function followPromotions(config: PromotionFollowerConfig, signal: AbortSignal): Promise<void> {
  const { models, slot, load, announcements, pollMs, log, onSwap } = config;
  const refused = new Set<string>();
  // An announcement that comes while the pointer is being read makes it read again at once.
  let announced = false;
  let wake: () => void = () => {};
  const listening = announcements && listen(announcements, () => ((announced = true), wake()), signal, log);

  while (!signal.aborted) {
    announced = false;
    try {
      const promoted = await promotedVersion(models);
      if (promoted !== undefined && promoted !== slot.current.autoencoder.version && !refused.has(promoted)) {
        await slot.replace(await load(promoted));
        onSwap?.(promoted);
      }
    } catch (error) {
      if (error instanceof ModelSwapError) refused.add(error.version);
      log.error({ err: error, models: models.url }, 'could not take the promoted model version; still serving the current one');
    }
    if (announced) continue;
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
