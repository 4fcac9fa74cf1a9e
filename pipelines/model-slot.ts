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
   * How long a replaced version stays loaded: fields it encoded may still be on their way to
   * publication (an alert picture is drawn with the model that encoded the field). Default 10 min.
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
  private served: ServedModel;
  private readonly retired = new Map<string, { model: ServedModel; timer: NodeJS.Timeout }>();
  private readonly retireAfterMs: number;

  constructor(
    initial: ServedModel,
    private readonly options: ModelSlotOptions = {},
  ) {
    this.served = initial;
    this.retireAfterMs = options.retireAfterMs ?? 600_000;
  }

  get current(): EmbeddingModel {
    return this.served;
  }

  /** The current version, or one replaced lately that is still loaded. */
  version(version: string): EmbeddingModel | undefined {
    return this.served.autoencoder.version === version ? this.served : this.retired.get(version)?.model;
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
      throw new ModelSwapError(next.autoencoder.version, `model version ${next.autoencoder.version} has another ${difference.setting} than ${now.version}: restart the consumer to use it`);
    }
    const previous = this.served;
    this.served = next;
    this.options.log?.info({ from: now.version, to: next.autoencoder.version, alertThreshold: next.alertThreshold }, 'model swapped: later batches use the new version');
    const timer = setTimeout(() => void this.dispose(now.version), this.retireAfterMs);
    timer.unref();
    const older = this.retired.get(now.version); // a copy of the same version retired before (a rollback and back)
    this.retired.set(now.version, { model: previous, timer });
    if (older) {
      clearTimeout(older.timer);
      await release(older.model);
    }
  }

  /** Frees every version, the current one included. */
  async close(): Promise<void> {
    await Promise.all([...this.retired.keys()].map((version) => this.dispose(version)));
    await release(this.served);
  }

  private async dispose(version: string): Promise<void> {
    const retired = this.retired.get(version);
    if (!retired) return;
    this.retired.delete(version);
    clearTimeout(retired.timer);
    await release(retired.model);
  }
}

async function release(model: ServedModel): Promise<void> {
  await model.close?.();
  disposeAutoencoder(model.autoencoder);
}

/**
 * What a running consumer refuses to swap in: another architecture (its seed aside, which only
 * initialised the weights) or normalization, with the keys that differ; undefined when it would.
 */
export function differingSetting(a: Pick<Autoencoder, 'config' | 'normalization'>, b: Pick<Autoencoder, 'config' | 'normalization'>): { setting: 'architecture' | 'normalization'; keys: string[] } | undefined {
  const differing = (x: object, y: object) => [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((key) => key !== 'seed' && JSON.stringify((x as Record<string, unknown>)[key]) !== JSON.stringify((y as Record<string, unknown>)[key]));
  const architecture = differing(a.config, b.config);
  if (architecture.length > 0) return { setting: 'architecture', keys: architecture };
  const normalization = differing(a.normalization, b.normalization);
  if (normalization.length > 0) return { setting: 'normalization', keys: normalization };
  return undefined;
}
