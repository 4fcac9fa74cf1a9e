import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SEED_MODEL_CONFIG, SEED_NORMALIZATION } from '../../model/config.js';
import { openShardCatalog } from '../../shards/catalog.js';
import type { ShardRow } from '../../shards/types.js';
import { createShardWriter } from '../../shards/writer.js';
import { createShardStage, shardSource } from '../../stages/sinks/shard.js';
import { pipe, silentLogger } from '../../stages/stage.js';
import { createNormalizeStage } from '../../stages/transforms/normalize.js';
import { FolderStore } from '../../store/folder.js';
import { REFC_KEY, refcField } from '../model/fixtures.js';

const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-shard-stage-'));
after(() => rm(folder, { recursive: true, force: true }));

describe('shard stage', () => {
  it('keeps the real REFC field, normalized and cropped, as a row named like its .idx line, and passes the field on', async () => {
    const store = new FolderStore(folder);
    const writer = createShardWriter({ store, normalization: SEED_NORMALIZATION });
    const stage = pipe(createNormalizeStage({ model: SEED_MODEL_CONFIG, normalization: SEED_NORMALIZATION }), createShardStage(writer));
    const decoded = await refcField();
    const context = { log: silentLogger, signal: new AbortController().signal };
    const passed = [];
    for await (const normalized of stage.process({ ...decoded, source: { store: 's3://noaa-hrrr-bdp-pds', key: REFC_KEY, range: { start: 0, end: 99 } } }, context)) passed.push(normalized);
    assert.equal(passed.length, 1);
    const [manifest] = await writer.close();

    const field = `REFC:${decoded.field.product.level}:${decoded.field.product.forecast}`;
    const catalog = openShardCatalog(store);
    assert.deepEqual(await catalog.list({ field }), [manifest]);
    const rows: ShardRow[] = [];
    for await (const row of catalog.read(manifest!)) rows.push(row);
    assert.equal(rows.length, 1);
    const [row] = rows;
    assert.deepEqual([row!.validTime, row!.field, row!.source, row!.height, row!.width], [decoded.field.product.validTime, field, `s3://noaa-hrrr-bdp-pds/${REFC_KEY}#0-99`, 1024, 1792]);
    // float16, the default: every value rounds back to NOAA's 1/16 dBZ step.
    const sent = passed[0]!.values;
    for (let i = 0; i < sent.length; i++) if (Math.round(row!.values[i]! * 960) !== Math.round(sent[i]! * 960)) assert.fail(`value ${i}: ${sent[i]} came back as ${row!.values[i]}`);
  });

  it('names a source without a byte range by its store and key alone', () => {
    assert.equal(shardSource({ store: 'file:///data/hrrr/', key: 'hrrr.20190920/conus/x.grib2' }), 'file:///data/hrrr/hrrr.20190920/conus/x.grib2');
  });
});
