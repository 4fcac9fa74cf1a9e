import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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
});
