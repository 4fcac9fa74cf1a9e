import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseIdx } from '../../grib2/index.js';
import { createDiscoverySource } from '../../stages/sources/discover.js';
import { createFetchStage, InvalidObjectError } from '../../stages/sources/fetch.js';
import { gribKey } from '../../stages/sources/hrrr-archive.js';
import { silentLogger } from '../../stages/stage.js';
import type { Analysis } from '../../stages/types.js';
import { FolderStore } from '../../store/folder.js';
import { analysisOfHour, hour } from '../support/analyses.js';

const REFC = /:REFC:entire atmosphere:anl:/;
const root = mkdtempSync(join(tmpdir(), 'fetch-hostile-'));
after(() => rmSync(root, { recursive: true, force: true }));
const store = new FolderStore(root);
const GB = 1_000_000_000;

/** A sparse file of `size` bytes (zeros, taking no disk) under the key of hour `n`'s analysis. */
function hugeObject(n: number, size: number): string {
  const key = gribKey(hour(n));
  mkdirSync(dirname(join(root, key)), { recursive: true });
  writeFileSync(join(root, key), '');
  truncateSync(join(root, key), size);
  return key;
}

async function fetchAll(analysis: Analysis): Promise<number> {
  let bytes = 0;
  for await (const piece of createFetchStage({ store, match: REFC }).process(analysis, { log: silentLogger, signal: AbortSignal.timeout(30_000) })) bytes += piece.bytes.length;
  return bytes;
}

describe('an object far larger than any HRRR file under an analysis key', () => {
  it('with no .idx, is refused before it is read, naming its size and the limit: 50 GB', async () => {
    const key = hugeObject(0, 50 * GB);
    await assert.rejects(fetchAll({ time: hour(0), store: store.url, key, size: 50 * GB }), (error: unknown) => {
      assert.ok(error instanceof InvalidObjectError, String(error));
      assert.match(error.message, /bytes 0-49999999999: 50000000000 bytes to read at once, more than the 1073741824 a piece may have/);
      return true;
    });
  });

  it('with an .idx whose REFC line spans 40 GB, is refused the same way: 1.5 GB, which the store could allocate', async () => {
    const key = hugeObject(1, 45 * GB);
    const idx = { key: `${key}.idx`, entries: parseIdx(`1:0:d=2019092001:REFC:entire atmosphere:anl:\n2:40000000000:d=2019092001:TMP:2 m above ground:anl:\n`) };
    await assert.rejects(fetchAll({ time: hour(1), store: store.url, key, size: 45 * GB, idx }), /bytes 0-39999999999: 40000000000 bytes to read at once/);
    const smaller = hugeObject(2, 1.5 * GB);
    await assert.rejects(fetchAll({ time: hour(2), store: store.url, key: smaller, size: 1.5 * GB }), /1500000000 bytes to read at once/);
  });
});

describe('an .idx far larger than any HRRR .idx', () => {
  it('is not read: discovery warns, naming its size, and passes the analysis on without it (the fetch then reads the object whole)', async () => {
    const { key, grib2 } = analysisOfHour(3);
    mkdirSync(dirname(join(root, key)), { recursive: true });
    writeFileSync(join(root, key), grib2);
    writeFileSync(join(root, `${key}.idx`), '');
    truncateSync(join(root, `${key}.idx`), 3 * GB);
    const warnings: Array<{ object: object; message: string | undefined }> = [];
    const log = { ...silentLogger, warn: (object: object, message?: string) => void warnings.push({ object, message }) };
    const found: Analysis[] = [];
    for await (const analysis of createDiscoverySource({ store, from: hour(3), to: hour(3), once: true, idxWaitMs: 0 }).run({ log, signal: AbortSignal.timeout(30_000) })) found.push(analysis);
    assert.deepEqual(found.map(({ key, size, idx }) => ({ key, size, idx })), [{ key, size: grib2.length, idx: undefined }]);
    assert.deepEqual(warnings, [{ object: { key: `${key}.idx`, bytes: 3 * GB, limit: 4 * 2 ** 20 }, message: 'unreadable .idx: 3000000000 bytes, more than any .idx of HRRR holds; the whole object will be read' }]);
  });
});
