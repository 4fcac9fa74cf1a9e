import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseIdx } from '../../grib2/index.js';
import { createDiscoverySource } from '../../stages/sources/discover.js';
import { createFetchStage, InvalidObjectError } from '../../stages/sources/fetch.js';
import { silentLogger, type StageLogger } from '../../stages/stage.js';
import type { Analysis, GribBytes } from '../../stages/types.js';
import type { ObjectStore } from '../../store/object-store.js';
import { S3Store } from '../../store/s3.js';
import { analysisOfHour, hour, seedAnalyses } from '../support/analyses.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { testCredentials } from '../../infra/s3-server.js';
import { storeKinds } from '../support/stores.js';

const REFC = /:REFC:entire atmosphere:anl:/;
const setup = await storeKinds();
after(() => setup.stop());

async function analysisIn(store: ObjectStore, n: number): Promise<Analysis> {
  for await (const analysis of createDiscoverySource({ store, from: hour(n), to: hour(n), once: true, idxWaitMs: 0 }).run({ log: silentLogger, signal: AbortSignal.timeout(30_000) })) return analysis;
  throw new Error(`hour ${n} not found`);
}

async function fetchAll(store: ObjectStore, analysis: Analysis, match = REFC, log: StageLogger = silentLogger): Promise<GribBytes[]> {
  const pieces = [];
  for await (const piece of createFetchStage({ store, match }).process(analysis, { log, signal: AbortSignal.timeout(30_000) })) pieces.push(piece);
  return pieces;
}

/** Byte length of the REFC message, the first of the sample file. */
const refcLength = () => Number(analysisOfHour(0).idx.split('\n')[1]!.split(':')[1]);

for (const kind of setup.kinds) {
  describe(`fetch by .idx byte ranges: ${kind.name}`, () => {
    let store: ObjectStore;
    before(async () => {
      store = await kind.create();
      await seedAnalyses(store, [0]);
    });

    it('returns exactly the REFC message as stored, with its byte range', async () => {
      const [piece, ...rest] = await fetchAll(store, await analysisIn(store, 0));
      assert.equal(rest.length, 0);
      assert.deepEqual(piece!.source.range, { start: 0, end: refcLength() - 1 });
      assert.deepEqual(piece!.bytes, analysisOfHour(0).grib2.subarray(0, refcLength()));
    });

    it('reads adjacent messages in one request', async () => {
      const pieces = await fetchAll(store, await analysisIn(store, 0), /:(REFC|TMP):/);
      assert.equal(pieces.length, 1);
      assert.deepEqual(pieces[0]!.bytes, analysisOfHour(0).grib2);
    });

    it('with no .idx reads the whole object, and says so', async () => {
      const analysis = await analysisIn(store, 0);
      const warnings: string[] = [];
      const log = { ...silentLogger, warn: (_: object, message?: string) => void warnings.push(message ?? '') };
      const pieces = await fetchAll(store, { time: analysis.time, store: analysis.store, key: analysis.key, size: analysis.size }, REFC, log);
      assert.deepEqual(pieces[0]!.bytes, analysisOfHour(0).grib2);
      assert.deepEqual(warnings, ['no readable .idx: reading the whole object']);
    });

    it('rejects a truncated object with an error naming the object, the range and what is missing', async () => {
      const analysis = await analysisIn(store, 0);
      const truncatedKey = 'truncated/hrrr.t00z.wrfsfcf00.grib2';
      await store.put(truncatedKey, analysisOfHour(0).grib2.subarray(0, refcLength() - 1000));
      await assert.rejects(fetchAll(store, { ...analysis, key: truncatedKey }), (error: unknown) => {
        assert.ok(error instanceof InvalidObjectError);
        assert.match(error.message, new RegExp(`${truncatedKey} bytes 0-${refcLength() - 1}: ${refcLength() - 1000} of ${refcLength()} bytes arrived`));
        return true;
      });
      // An object cut inside the message, read whole: the GRIB2 length check catches it.
      await assert.rejects(fetchAll(store, { time: analysis.time, store: analysis.store, key: truncatedKey, size: refcLength() - 1000 }), /message declares \d+ bytes, only \d+ are there/);
    });

    it('reads the object whole, and says so, when its .idx does not match it (offsets of another upload or field list)', async () => {
      const analysis = await analysisIn(store, 0);
      const stale = analysisOfHour(0).idx.replace(/^(\d+):(\d+):/gm, (_, n: string, offset: string) => `${n}:${Number(offset) + 8}:`);
      const warnings: string[] = [];
      const log = { ...silentLogger, warn: (_: object, message?: string) => void warnings.push(message ?? '') };
      const pieces = await fetchAll(store, { ...analysis, idx: { key: `${analysis.key}.idx`, entries: parseIdx(stale) } }, REFC, log);
      assert.equal(pieces.length, 1);
      assert.deepEqual(pieces[0]!.bytes, analysisOfHour(0).grib2);
      assert.deepEqual(pieces[0]!.source.range, { start: 0, end: analysisOfHour(0).grib2.length - 1 });
      assert.deepEqual(warnings, ['the .idx does not match the object: reading the whole object']);
    });

    it('rejects bytes that are not a GRIB2 message, and an .idx without the field', async () => {
      const analysis = await analysisIn(store, 0);
      await store.put('junk.grib2', new Uint8Array(analysisOfHour(0).grib2.length).fill(0x41));
      await assert.rejects(fetchAll(store, { ...analysis, key: 'junk.grib2' }), /junk\.grib2 bytes 0-\d+: GRIB2 section 0 at byte 0: expected "GRIB"/);
      await assert.rejects(fetchAll(store, analysis, /:VIL:/), /no line of its \.idx matches \/:VIL:\//);
    });
  });
}

describe('fetch over the wire (moto behind a counting proxy)', () => {
  it('downloads only the .idx, the indicator of the last message and the REFC bytes of an analysis, not the whole file', async () => {
    const bucket = await setup.kinds[1]!.create();
    await seedAnalyses(bucket, [0]);
    const proxy = await FaultProxy.start(setup.server.endpoint);
    try {
      const store = new S3Store({ bucket: bucket.url.slice('s3://'.length), endpoint: proxy.endpoint, forcePathStyle: true, credentials: testCredentials });
      const pieces = await fetchAll(store, await analysisIn(store, 0));
      const { grib2, idx } = analysisOfHour(0);
      // Discovery reads the 16 bytes of section 0 of the last message, to see that the object holds all of it.
      assert.equal(proxy.bytesDownloaded, refcLength() + idx.length + 16);
      assert.ok(proxy.bytesDownloaded < grib2.length);
      assert.deepEqual(proxy.requests.filter((seen) => seen.range).map((seen) => seen.range), [`bytes=${refcLength()}-${refcLength() + 15}`, `bytes=0-${refcLength() - 1}`]);
      assert.equal(pieces[0]!.bytes.length, refcLength());
    } finally {
      await proxy.stop();
    }
  });
});
