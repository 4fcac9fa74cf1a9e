import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { fileBusQuiet, readEmbeddings } from '../../search/embeddings.js';
import { findEmbedding } from '../../search/similar.js';
import { silentLogger } from '../../stages/stage.js';
import { embeddingKey, sampleEmbedding, validTime } from '../bus/sample-records.js';

let work: string;
before(async () => (work = await mkdtemp(join(tmpdir(), 'hrrr-embed-embeddings-'))));
after(() => rm(work, { recursive: true, force: true }));

describe('the embeddings topic read back for search', () => {
  it('takes the embedding published last as the default for an hour, also when an older model version embedded it again (a rollback)', async () => {
    const bus = new FileBus(join(work, 'rollback'));
    const codec = await AvroCodec.create();
    await bus.createTopic(codec.topics.embeddings);
    for (const [modelVersion, seed] of [['1', 1], ['2', 2], ['1', 3]] as const) {
      const { record } = await codec.encode('embeddings', embeddingKey, { ...sampleEmbedding(seed), modelVersion });
      await bus.produce(codec.topics.embeddings, [record]);
    }
    try {
      const embeddings = await readEmbeddings(bus, codec, { ...fileBusQuiet, log: silentLogger });
      assert.equal(embeddings.length, 2, 'one per field, hour and model version');
      const found = findEmbedding(embeddings, { field: embeddingKey.field, validTime });
      assert.deepEqual([found.modelVersion, found.embedding], ['1', sampleEmbedding(3).embedding]);
    } finally {
      await bus.close();
    }
  });

  it('reads the whole topic when decoding is slow (a remote schema registry\'s first lookup): only waiting on the bus counts as quiet', async () => {
    const bus = new FileBus(join(work, 'slow'));
    const codec = await AvroCodec.create();
    await bus.createTopic(codec.topics.embeddings);
    for (const seed of [1, 2, 3]) {
      const { record } = await codec.encode('embeddings', { ...embeddingKey, validTime: new Date(validTime.getTime() + seed * 3_600_000) }, { ...sampleEmbedding(seed), validTime: new Date(validTime.getTime() + seed * 3_600_000) });
      await bus.produce(codec.topics.embeddings, [record]);
    }
    // The first record's decode takes twice the quiet time, as a registry's first schema lookup may.
    let decoded = 0;
    const slow = Object.assign(Object.create(codec) as AvroCodec, {
      decode: async (record: Parameters<AvroCodec['decode']>[0]) => {
        if (decoded++ === 0) await sleep(2 * fileBusQuiet.quietMs);
        return codec.decode(record);
      },
    });
    try {
      const embeddings = await readEmbeddings(bus, slow, { ...fileBusQuiet, log: silentLogger });
      assert.equal(embeddings.length, 3);
    } finally {
      await bus.close();
    }
  });
});
