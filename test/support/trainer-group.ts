import type { AvroCodec } from '../../bus/avro/codec.js';
import type { FileBus } from '../../bus/files/file-bus.js';

/**
 * Places the trainer's consumer group at the start of the retrain-requests topic (a record of its
 * own, read and committed), so that a request produced before the trainer starts is heard: a group
 * with no committed offset starts at the topic's end.
 */
export async function placeTrainerGroupAtStart(bus: FileBus, codec: AvroCodec, group = 'hrrr-embed-trainer'): Promise<void> {
  const topic = codec.topics.retrainRequests;
  await bus.createTopic(topic);
  const placing = bus.consumer({ group, topics: [topic], fromBeginning: true });
  await bus.produce(topic, [{ key: null, value: new TextEncoder().encode('placing the group') }]);
  for await (const record of placing.records(new AbortController().signal)) {
    await placing.commit(record);
    break;
  }
  await placing.close();
}
