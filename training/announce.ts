import type { AvroCodec } from '../bus/avro/codec.js';
import type { TopicBus } from '../bus/bus.js';
import type { ModelVersion } from '../bus/records.js';
import type { ModelManifest } from '../model/versions.js';
import type { ObjectStore } from '../store/object-store.js';

/** Publishes a promotion on the model-versions topic (keyed by the model line, so its versions stay in order); resolves once the bus holds it. */
export async function announcePromotion(bus: TopicBus, codec: AvroCodec, version: ModelVersion): Promise<void> {
  const { topic, record } = await codec.encode('modelVersions', version.modelId, version);
  await bus.createTopic(topic);
  await bus.produce(topic, [record]);
}

/**
 * The announcement of a version just promoted in `models`, from its manifest: the held-out loss
 * it was judged by, and its alert threshold (NaN for a version saved without one: the schema's
 * threshold is a double, and consumers take the threshold from the manifest, not from here).
 */
export function promotionAnnouncement(models: ObjectStore, manifest: ModelManifest): ModelVersion {
  return {
    modelId: models.url,
    version: manifest.modelId,
    promotedAt: new Date(),
    artifact: { store: models.url, key: `versions/${manifest.modelId}/` },
    embeddingSize: manifest.hyperparameters.numdense,
    alertThreshold: manifest.alertThreshold ?? Number.NaN,
    validationLoss: manifest.metrics.heldOutLoss ?? null,
  };
}
