import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import type { OutgoingRecord } from '../../bus/bus.js';
import { modelConfig, SEED_NORMALIZATION } from '../../model/config.js';
import { createPublishStage, type EncodedField } from '../../stages/sinks/publish.js';
import { silentLogger, type StageContext } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { refcField, SMALL_CONFIG } from '../model/fixtures.js';

const context: StageContext = { log: silentLogger, signal: new AbortController().signal };

describe('the publish stage', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'hrrr-embed-publish-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('gives two fields of one parameter and valid time, at different levels, each its own alert picture', async () => {
    const codec = await AvroCodec.create();
    const pictures = new FolderStore(join(work, 'pictures'));
    const sent: Array<{ topic: string; record: OutgoingRecord }> = [];
    const publish = createPublishStage({
      produce: async (topic, records) => records.forEach((record) => sent.push({ topic, record })),
      codec,
      model: { id: 'refc-autoencoder', config: modelConfig(SMALL_CONFIG), normalization: SEED_NORMALIZATION },
      alertThreshold: () => 0.1,
      pictures,
      drawAlert: async ({ embedded }) => new TextEncoder().encode(embedded.field.product.level),
    });
    const { source, field } = await refcField();
    const at = (level: string): EncodedField => {
      const leveled = { ...field, product: { ...field.product, level } };
      return {
        normalized: { source, field: leveled, height: 32, width: 64, values: new Float32Array(32 * 64) },
        embedded: { source, field: leveled, embedding: new Float32Array(SMALL_CONFIG.numdense), reconstructionError: 0.5, model: { version: '1', backend: 'cpu' } },
      };
    };
    for (const level of ['1000 m above ground', '4000 m above ground']) for await (const _ of publish.process(at(level), context));

    const alerts = await Promise.all(sent.filter(({ topic }) => topic === codec.topics.alerts).map(({ topic, record }) => codec.decode({ topic, key: record.key, value: record.value, headers: record.headers ?? {} })));
    assert.equal(alerts.length, 2);
    for (const { value } of alerts) {
      const { field: name, picture } = value as { field: string; picture: { key: string } };
      assert.equal(new TextDecoder().decode(await pictures.get(picture.key)), name.split(':')[1], `${name}'s alert names its own picture (${picture.key})`);
    }
  });
});
