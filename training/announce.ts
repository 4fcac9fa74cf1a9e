import type { AvroCodec } from '../bus/avro/codec.js';
import type { TopicBus } from '../bus/bus.js';
import type { ModelVersion } from '../bus/records.js';

/** Publishes a promotion on the model-versions topic (keyed by the model line, so its versions stay in order); resolves once the bus holds it. */
export async function announcePromotion(bus: TopicBus, codec: AvroCodec, version: ModelVersion): Promise<void> {
  const { topic, record } = await codec.encode('modelVersions', version.modelId, version);
  await bus.createTopic(topic);
  await bus.produce(topic, [record]);
}
