import { disposeAutoencoder, type Autoencoder } from '../model/autoencoder.js';
import type { StageLogger } from '../stages/stage.js';
import type { EmbeddingModel } from './embed-analysis.js';

/** A model version being served, and how to free it (its encoder thread, its weights) once retired. */
export interface ServedModel extends EmbeddingModel {
  close?(): Promise<void>;
}

/** A promoted version that cannot replace the running one without a restart. */
export class ModelSwapError extends Error {
  override readonly name = 'ModelSwapError';
  constructor(
    readonly version: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ModelSlotOptions {
  log?: StageLogger;
}

/** A served copy of a version, and the number of the replacement that put it in the slot. */
interface ServedCopy {
  model: RetirableModel;
  generation: number;
}

/**
 * The model a running consumer encodes with, replaced without a restart when a new version is
 * promoted. The encoder asks for `current` as each batch starts, so a switch falls between
 * batches; each embedding names the version that made it.
 *
 * A replaced version stays loaded while fields it may have encoded are on their way to
 * publication (an alert picture is drawn with the model that encoded the field): whoever encodes
 * takes a `hold` first and ends it once those fields are done, and a replaced version is freed as
 * soon as no hold taken while it was served is left.
 */
export class ModelSlot {
  private served: ServedCopy;
  // Every replaced copy still held, oldest first: a version promoted again after a rollback is
  // loaded anew, and the copy retired before may still be encoding a batch.
  private readonly retired: ServedCopy[] = [];
  // The generation each open hold began in: it may use that copy and every later one.
  private readonly holds = new Set<{ from: number }>();

  constructor(
    initial: ServedModel,
    private readonly options: ModelSlotOptions = {},
  ) {
    this.served = { model: threadEndingWhenRetired(initial), generation: 0 };
  }

  get current(): EmbeddingModel {
    return this.served.model;
  }

  /** The current version, or a replaced one still held. */
  version(version: string): EmbeddingModel | undefined {
    if (this.served.model.autoencoder.version === version) return this.served.model;
    return [...this.retired].reverse().find(({ model }) => model.autoencoder.version === version)?.model;
  }

  /**
   * Keeps the current version, and every one that replaces it from now on, loaded until the
   * returned `release` is called: take it before encoding fields, release it once they are
   * published or have failed. Releasing frees each replaced version no other hold needs.
   */
  hold(): () => Promise<void> {
    const hold = { from: this.served.generation };
    this.holds.add(hold);
    return () => {
      this.holds.delete(hold);
      return this.freeUnheld();
    };
  }

  /**
   * Serves `next` from the next batch on. Refused (ModelSwapError, and `next` is closed) when its
   * input or normalization differs: fields already normalized for the running version are in flight.
   */
  async replace(next: ServedModel): Promise<void> {
    const now = this.served.model.autoencoder;
    const difference = differingSetting(now, next.autoencoder);
    if (difference) {
      await release(next);
      throw new ModelSwapError(next.autoencoder.version, `model version ${next.autoencoder.version} has another ${difference.setting} than ${now.version} (${difference.how}): restart the consumer to use it`);
    }
    const previous = this.served;
    this.served = { model: threadEndingWhenRetired(next), generation: previous.generation + 1 };
    previous.model.retire();
    this.options.log?.info({ from: now.version, to: next.autoencoder.version, alertThreshold: next.alertThreshold }, 'model swapped: later batches use the new version');
    this.retired.push(previous);
    await this.freeUnheld();
  }

  /** Frees every version, the current one included, held or not: the consumer has stopped. */
  async close(): Promise<void> {
    const all = [...this.retired.splice(0), this.served];
    await Promise.all(all.map(({ model }) => release(model)));
  }

  /** Frees the replaced copies that no open hold began in or before; a failure to free one is logged, not thrown at the hold's owner. */
  private async freeUnheld(): Promise<void> {
    const oldestHeld = Math.min(...[...this.holds].map(({ from }) => from));
    const unheld = this.retired.filter(({ generation }) => generation < oldestHeld);
    if (unheld.length === 0) return;
    this.retired.splice(0, unheld.length);
    await Promise.all(
      unheld.map(({ model }) =>
        release(model).catch((error: unknown) => this.options.log?.error({ err: error, version: model.autoencoder.version }, 'could not free a replaced model version')),
      ),
    );
  }
}

interface RetirableModel extends ServedModel {
  /** No more batches will be given to it: its encoder thread ends once those running are done. */
  retire(): void;
}

/**
 * `model`, with its encoder thread ended as soon as it is retired and its last batch is done: an
 * idle thread keeps its backend's memory (wasm: about 430 MB once it has encoded a full-size
 * field), while the fields on their way to publication need only the version's weights here.
 */
function threadEndingWhenRetired(model: ServedModel): RetirableModel {
  const { encodeBatch, close } = model;
  if (!encodeBatch || !close) return { ...model, retire: () => {} };
  let running = 0;
  let retired = false;
  let closing: Promise<void> | undefined;
  const closeOnce = () => (closing ??= close());
  // Not awaited here: a failure to end it is the slot's close's or the retirement's to report.
  const endThread = () => void closeOnce().catch(() => {});
  return {
    ...model,
    async encodeBatch(fields) {
      running++;
      try {
        return await encodeBatch(fields);
      } finally {
        if (--running === 0 && retired) endThread();
      }
    },
    close: closeOnce,
    retire() {
      retired = true;
      if (running === 0) endThread();
    },
  };
}

async function release(model: ServedModel): Promise<void> {
  await model.close?.();
  disposeAutoencoder(model.autoencoder);
}

/**
 * What a running consumer refuses to swap in: another architecture (its seed aside, which only
 * initialised the weights) or normalization, each differing setting with both values ("numdense 32, not 50").
 */
export function differingSetting(now: Pick<Autoencoder, 'config' | 'normalization'>, next: Pick<Autoencoder, 'config' | 'normalization'>): { setting: 'architecture' | 'normalization'; how: string } | undefined {
  const architecture = differences(now.config, next.config);
  if (architecture) return { setting: 'architecture', how: architecture };
  const normalization = differences(now.normalization, next.normalization);
  return normalization ? { setting: 'normalization', how: normalization } : undefined;
}

function differences(now: object, next: object): string | undefined {
  const value = (settings: object, key: string) => JSON.stringify((settings as Record<string, unknown>)[key]);
  const keys = [...new Set([...Object.keys(next), ...Object.keys(now)])].filter((key) => key !== 'seed' && value(next, key) !== value(now, key));
  return keys.length === 0 ? undefined : keys.map((key) => `${key} ${value(next, key)}, not ${value(now, key)}`).join('; ');
}
