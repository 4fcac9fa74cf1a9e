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
  /**
   * How long a replaced version's weights stay loaded: fields it encoded may still be on their way
   * to publication (an alert picture is drawn with the model that encoded the field). Default 10
   * min. Its encoder thread, if it has one, ends as soon as its last batch is done.
   */
  retireAfterMs?: number;
  log?: StageLogger;
}

/**
 * The model a running consumer encodes with, replaced without a restart when a new version is
 * promoted. The encoder asks for `current` as each batch starts, so a switch falls between
 * batches; each embedding names the version that made it.
 */
export class ModelSlot {
  private served: RetirableModel;
  // Every replaced copy, oldest first: a version promoted again after a rollback is loaded anew, and
  // the copy retired before may still be encoding a batch, so each copy keeps its own time.
  private readonly retired: Array<{ model: RetirableModel; timer: NodeJS.Timeout }> = [];
  private readonly retireAfterMs: number;

  constructor(
    initial: ServedModel,
    private readonly options: ModelSlotOptions = {},
  ) {
    this.served = threadEndingWhenRetired(initial);
    this.retireAfterMs = options.retireAfterMs ?? 600_000;
  }

  get current(): EmbeddingModel {
    return this.served;
  }

  /** The current version, or one replaced lately that is still loaded. */
  version(version: string): EmbeddingModel | undefined {
    if (this.served.autoencoder.version === version) return this.served;
    return [...this.retired].reverse().find(({ model }) => model.autoencoder.version === version)?.model;
  }

  /**
   * Serves `next` from the next batch on. Refused (ModelSwapError, and `next` is closed) when its
   * input or normalization differs: fields already normalized for the running version are in flight.
   */
  async replace(next: ServedModel): Promise<void> {
    const now = this.served.autoencoder;
    const difference = differingSetting(now, next.autoencoder);
    if (difference) {
      await release(next);
      throw new ModelSwapError(next.autoencoder.version, `model version ${next.autoencoder.version} has another ${difference.setting} than ${now.version} (${difference.how}): restart the consumer to use it`);
    }
    const previous = this.served;
    this.served = threadEndingWhenRetired(next);
    previous.retire();
    this.options.log?.info({ from: now.version, to: next.autoencoder.version, alertThreshold: next.alertThreshold }, 'model swapped: later batches use the new version');
    const retired = { model: previous, timer: setTimeout(() => void this.dispose(retired), this.retireAfterMs) };
    retired.timer.unref();
    this.retired.push(retired);
  }

  /** Frees every version, the current one included. */
  async close(): Promise<void> {
    await Promise.all([...this.retired].map((retired) => this.dispose(retired)));
    await release(this.served);
  }

  private async dispose(retired: { model: RetirableModel; timer: NodeJS.Timeout }): Promise<void> {
    const at = this.retired.indexOf(retired);
    if (at < 0) return;
    this.retired.splice(at, 1);
    clearTimeout(retired.timer);
    await release(retired.model);
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
