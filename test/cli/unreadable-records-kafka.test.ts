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
  // One partition, in this order: an embedding of hour 0, a record that is not Avro of its schema, an embedding of hour 1.
  const bus = new KafkaBus({ brokers: [broker.address], log: silentLogger });
  const codec = await AvroCodec.create();
  try {
    await bus.createTopic('embeddings', { partitions: 1 });
    const embedding = async (n: number) => (await codec.encode('embeddings', { field: 'REFC:entire atmosphere:anl', validTime: hour(n) }, { ...sampleEmbedding(), validTime: hour(n) })).record;
    const [first, second] = [await embedding(0), await embedding(1)];
    const cutShort = { ...first, value: first.value.subarray(0, 5) };
    await bus.produce('embeddings', [first, cutShort, second]);
  } finally {
    await bus.close();
  }
});
after(() => broker.stop());

const skippedWarning = /skipped embeddings\/0 offset 1: embeddings value: not Avro of its writer schema/;
const skippedCount = /1 unreadable record of embeddings skipped/;

describe('reading a Kafka topic with a record that is not Avro among good ones', () => {
  it('hrrr-embed tail prints the good records on either side and warns of the bad one, naming it, with the count at the end', async () => {
    const { status, lines, stderr } = await runCommandProcess(['tail', 'embeddings', '--kafka', broker.address, '--from-beginning', '--max', '2']);
    assert.equal(status, 0, stderr);
    assert.deepEqual(
      lines.map((line) => [(line as { offset: number }).offset, (line as { value: { validTime: string } }).value.validTime]),
      [
        [0, hour(0).toISOString()],
        [2, hour(1).toISOString()],
      ],
    );
    assert.match(stderr, skippedWarning);
    assert.match(stderr, skippedCount);
  });

  it('hrrr-embed similar reads past the bad record: the hour after it is the neighbour of the hour before it', async () => {
    const { status, lines, stderr } = await runCommandProcess(['similar', '--kafka', broker.address, '--time', formatHour(hour(0)), '-k', '1']);
    assert.equal(status, 0, stderr);
    assert.deepEqual(lines.map((line) => (line as { validTime: string }).validTime), [formatHour(hour(1))]);
    assert.match(stderr, skippedWarning);
    assert.match(stderr, skippedCount);
  });
});
