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

describe("the embedding record's crop window", () => {
  const cropOf = async (southFirst: boolean) => {
    const codec = await AvroCodec.create();
    const sent: OutgoingRecord[] = [];
    const publish = createPublishStage({
      produce: async (_topic, records) => void sent.push(...records),
      codec,
      model: { id: 'refc-autoencoder', config: modelConfig(), normalization: SEED_NORMALIZATION },
      alertThreshold: () => null,
      pictures: new FolderStore(tmpdir()),
      drawAlert: async () => new Uint8Array(),
    });
    const { source, field: refc } = await refcField();
    const template = { ...refc.grid.template, scanning: { ...refc.grid.template.scanning, jScansPositively: southFirst } };
    const field = { ...refc, grid: { ...refc.grid, template } };
    const encoded: EncodedField = {
      normalized: { source, field, height: 1024, width: 1792, values: new Float32Array(0) },
      embedded: { source, field, embedding: new Float32Array(50), reconstructionError: 0, model: { version: '1', backend: 'cpu' } },
    };
    for await (const _ of publish.process(encoded, context));
    const { value } = await codec.decode({ topic: codec.topics.embeddings, key: sent[0]!.key, value: sent[0]!.value, headers: sent[0]!.headers ?? {} });
    return { ...(value as { crop: object }).crop };
  };

  it('counts rows as the values are stored: the 17 southern rows come first in HRRR (south row first)', async () => {
    assert.deepEqual(await cropOf(true), { firstRow: 17, rows: 1024, firstColumn: 4, columns: 1792, downsample: 1 });
  });

  it('and the 18 northern rows where the grid is stored north row first (the window the model saw is the same)', async () => {
    assert.deepEqual(await cropOf(false), { firstRow: 18, rows: 1024, firstColumn: 4, columns: 1792, downsample: 1 });
  });
});
