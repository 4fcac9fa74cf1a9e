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

    const stop = new AbortController();
    const outcomes: EventOutcome[] = [];
    const model = { autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold: null, backend: 'cpu' };
    const running = runEventConsumer(
      { source: new FolderStore(join(work, 'source')), state: new FolderStore(join(work, 'state')), bus, codec, model, events: { topic: 'huge-objects', group: 'huge' }, match: /:REFC:/, stop: stop.signal },
      (outcome) => {
        outcomes.push(outcome);
        stop.abort();
      },
      { log: silentLogger, signal: AbortSignal.timeout(30_000) },
    );
    await running;
    assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['dead-letter']);

    const reader = bus.consumer({ group: 'check', topics: [codec.topics.deadLetters], fromBeginning: true });
    const [record] = await take(reader, 1);
    await reader.close();
    assert.ok(record!.value.length < 10_000, `a dead letter of ${record!.value.length} bytes`);
    const letter = (await codec.decode(record!)).value as DeadLetter;
    assert.match(letter.message, /^stage object-events: Records\[0\]: key "hrrr\.20190920\/conus\/%ZZZZ/);
    assert.match(letter.message, /… \(\d+ more characters\)$/);
    assert.equal(letter.stage, 'object-events');
    assert.equal(letter.errorClass, 'ObjectEventError');
    await bus.close();
  });
});
