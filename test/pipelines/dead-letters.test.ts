import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { topicNames } from '../../bus/bus.js';
import { FileBus } from '../../bus/files/file-bus.js';
import type { DeadLetter } from '../../bus/records.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { runEventConsumer, type EventOutcome } from '../../pipelines/consume-events.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { s3ObjectCreated } from '../support/object-events.js';
import { take } from '../bus/helpers.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-dead-letters-'));
  await selectBackend('cpu', 'inference', silentLogger);
});
after(() => rm(work, { recursive: true, force: true }));

describe('dead letters', () => {
  it('an error quoting a huge input keeps a bounded message: Kafka would refuse a dead letter over 1 MB, and the stream would stop on that event', async () => {
    const bus = new FileBus(join(work, 'data'));
    const codec = await AvroCodec.create({ topics: topicNames('huge.') });
    // Not URL encoding: the ObjectEventError quotes the key, all 3 MB of it.
    const key = `hrrr.20190920/conus/%${'Z'.repeat(3_000_000)}`;
    await bus.createTopic('huge-objects');
    await bus.produce('huge-objects', [{ key: null, value: Buffer.from(s3ObjectCreated(key)) }]);

    const outcomes = await consume(bus, codec, 'huge-objects', 1);
    assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['dead-letter']);

    const [record] = await deadLetters(bus, codec, 1);
    assert.ok(record!.value.length < 10_000, `a dead letter of ${record!.value.length} bytes`);
    const letter = (await codec.decode(record!)).value as DeadLetter;
    assert.match(letter.message, /^stage object-events: Records\[0\]: key "hrrr\.20190920\/conus\/%ZZZZ/);
    assert.match(letter.message, /… \(\d+ more characters\)$/);
    assert.equal(letter.stage, 'object-events');
    assert.equal(letter.errorClass, 'ObjectEventError');
    assert.equal(letter.event, null, 'an event over 64 KiB is not kept');
    await bus.close();
  });

  it('an event that could not be done is kept whole in its dead letter, to be produced again once the cause is fixed', async () => {
    const bus = new FileBus(join(work, 'data-events'));
    const codec = await AvroCodec.create({ topics: topicNames('kept.') });
    const events = ['{"Type":"Notification","Subject":"Amazon S3 Notification"}', '\u00e9t\u00e9 \ud83c\udf29 not JSON', s3ObjectCreated('hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2')];
    await bus.createTopic('kept-objects');
    await bus.produce('kept-objects', events.map((event) => ({ key: null, value: Buffer.from(event) })));
    const outcomes = await consume(bus, codec, 'kept-objects', 3);
    assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['dead-letter', 'dead-letter', 'dead-letter']);
    const letters = await Promise.all((await deadLetters(bus, codec, 3)).map(async (record) => (await codec.decode(record)).value as DeadLetter));
    assert.deepEqual(letters.map((letter) => [letter.stage, letter.event]), [['object-events', events[0]], ['object-events', events[1]], ['discover', events[2]]]);
    await bus.close();
  });
});

/** Runs the event consumer over the topic until it has told `count` outcomes, then stops it. */
async function consume(bus: FileBus, codec: AvroCodec, topic: string, count: number): Promise<EventOutcome[]> {
  const stop = new AbortController();
  const outcomes: EventOutcome[] = [];
  const model = { autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold: null, backend: 'cpu' };
  await runEventConsumer(
    { source: new FolderStore(join(work, 'source')), state: new FolderStore(join(work, 'state')), bus, codec, model, events: { topic, group: topic }, match: /:REFC:/, stop: stop.signal },
    (outcome) => {
      if (outcomes.push(outcome) === count) stop.abort();
    },
    { log: silentLogger, signal: AbortSignal.timeout(30_000) },
  );
  return outcomes;
}

async function deadLetters(bus: FileBus, codec: AvroCodec, count: number) {
  const reader = bus.consumer({ group: `check-${codec.topics.deadLetters}`, topics: [codec.topics.deadLetters], fromBeginning: true });
  const records = await take(reader, count);
  await reader.close();
  return records;
}
