import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import { startBroker, type TestBroker } from '../../infra/kafka/broker.js';
import { formatHour } from '../../stages/sources/hrrr-archive.js';
import { silentLogger } from '../../stages/stage.js';
import { sampleEmbedding } from '../bus/sample-records.js';
import { hour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';

let broker: TestBroker;
before(async () => {
  broker = await startBroker();
});
after(() => broker.stop());

describe('hrrr-embed similar --kafka', () => {
  it('reads the embeddings topic from a real broker to its end, keeps the latest record of each hour, and ranks by distance', async () => {
    const bus = new KafkaBus({ brokers: [broker.address], log: silentLogger });
    const codec = await AvroCodec.create();
    try {
      await bus.createTopic('embeddings', { partitions: 3 });
      // Hour n embeds as the point (n, 0, 0...); hour 3 is published twice, the second time far away.
      const record = (n: number, x: number, modelVersion = '1') => codec.encode('embeddings', { field: 'REFC:entire atmosphere:anl', validTime: hour(n) }, { ...sampleEmbedding(), validTime: hour(n), modelVersion, embedding: Array.from({ length: 50 }, (_, i) => (i === 0 ? x : 0)) });
      const records = await Promise.all([record(0, 0), record(1, 1), record(2, 2), record(3, 3), record(4, 4), record(3, 30), record(1, 2, '2')]);
      await bus.produce('embeddings', records.map((r) => r.record));
    } finally {
      await bus.close();
    }
    const { status, lines, stderr } = await runCommandProcess(['similar', '--kafka', broker.address, '--time', formatHour(hour(2)), '-k', '3']);
    assert.equal(status, 0, stderr);
    assert.deepEqual(
      lines.map((line) => [(line as { validTime: string }).validTime, (line as { distance: number }).distance]),
      // Hour 3's latest record is far away; version 2's record of hour 1 is another model's; equal distances go in time order.
      [
        [formatHour(hour(1)), 1],
        [formatHour(hour(0)), 2],
        [formatHour(hour(4)), 2],
      ],
    );
  });
});
