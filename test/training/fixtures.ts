import { modelConfig, SEED_NORMALIZATION } from '../../model/config.js';
import { silentLogger } from '../../stages/stage.js';
import type { ObjectStore } from '../../store/object-store.js';
import type { RetrainOptions } from '../../training/retrain.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { START } from '../support/analyses.js';
import type { ShardCatalog } from '../../shards/types.js';
import { FIELD } from './memory-shards.js';

/** A retraining of the small model over every fixture shard; the test gives what differs. */
export function smallRun(models: ObjectStore, shards: ShardCatalog, overrides: Partial<RetrainOptions> = {}): RetrainOptions {
  return {
    models,
    shards,
    field: FIELD,
    from: START,
    to: new Date(START.getTime() + 1000 * 3_600_000),
    runId: 'run-1',
    steps: 60,
    batchSize: 4,
    stepsPerCheckpoint: 20,
    learningRate: 0.005,
    force: false,
    heldOutFraction: 0.2,
    thresholdQuantile: 0.99,
    seed: 7,
    interleave: 3,
    bufferSize: 16,
    log: silentLogger,
    ...overrides,
  };
}

export const smallFresh = () => ({ config: modelConfig(SMALL_CONFIG), normalization: { ...SEED_NORMALIZATION } });
