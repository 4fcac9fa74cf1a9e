import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import type { Embedding } from '../../bus/records.js';
import { encodeGrib2Message, writeIdx } from '../../grib2/index.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { runConsumer } from '../../pipelines/consume.js';
import { silentLogger } from '../../stages/stage.js';
import { HRRR_GRID } from '../../stages/sources/sample-analyses.js';
import { FolderStore } from '../../store/folder.js';
import { hour, putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { take } from '../bus/helpers.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-embedding-source-'));
  await selectBackend('cpu', 'inference', silentLogger);
});
after(() => rm(work, { recursive: true, force: true }));

describe("an embedding's source", () => {
  it('is the byte range of its own GRIB2 message, also when the fetch read it in one piece with the next message', async () => {
    const { time, key, grib2: refc } = smallAnalysisOfHour(0);
    const temperature = encodeGrib2Message({
      discipline: 0,
      identification: { referenceTime: time },
      grid: { ...HRRR_GRID, Nx: 70, Ny: 38 },
      product: { parameterCategory: 0, parameterNumber: 0, forecastTime: 0, firstSurface: { type: 1 } },
      packing: { template: 3, orderOfSpatialDifferencing: 2, decimalScaleFactor: 0, binaryScaleFactor: -6, missingValueManagement: 0 },
      values: new Float32Array(70 * 38).fill(290),
    });
    const grib2 = new Uint8Array(refc.length + temperature.length);
    grib2.set(refc);
    grib2.set(temperature, refc.length);
    const idx = writeIdx([
      { offset: 0, referenceTime: time, variable: 'REFC', level: 'entire atmosphere', forecast: 'anl' },
      { offset: refc.length, referenceTime: time, variable: 'TMP', level: 'surface', forecast: 'anl' },
    ]);
    const source = new FolderStore(join(work, 'source'));
    await putAnalysis(source, { time, key, grib2, idx });

    const bus = new FileBus(join(work, 'data'));
    const codec = await AvroCodec.create();
    const model = { autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold: null, backend: 'cpu' };
    // Both lines match: their adjacent ranges are fetched as one.
    const config = { source, state: new FolderStore(join(work, 'state')), bus, codec, model, match: /:(REFC|TMP):/, from: hour(0), to: hour(0), once: true };
    const summary = await runConsumer(config, undefined, { log: silentLogger, signal: new AbortController().signal });
    assert.equal(summary.done, 1);

    const reader = bus.consumer({ group: 'check', topics: [codec.topics.embeddings], fromBeginning: true });
    const records = await take(reader, 2);
    await reader.close();
    const sources = Object.fromEntries(await Promise.all(records.map(async (record) => {
      const { field, source: { byteStart, byteEnd } } = (await codec.decode(record)).value as Embedding;
      return [field, [byteStart, byteEnd]] as const;
    })));
    assert.deepEqual(sources, { 'REFC:entire atmosphere:anl': [0, refc.length - 1], 'TMP:surface:anl': [refc.length, grib2.length - 1] });
    await bus.close();
  });
});
