import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { encodeValues } from '../../shards/encoding.js';
import type { ShardCompression, ShardEncoding } from '../../shards/types.js';
import { createShardWriter } from '../../shards/writer.js';
import { FolderStore } from '../../store/folder.js';
import { repoRoot } from '../paths.js';
import { hour, testRow } from './rows.js';

/** pyarrow, installed by infra/install-pyarrow.sh (npm test's pretest). */
const PYTHON = join(repoRoot, '.work', 'arrow-venv', 'bin', 'python');
const SCRIPT = join(repoRoot, 'test', 'reference', 'pyarrow_shard.py');

interface PyarrowView {
  metadata: Record<string, string>;
  types: Record<string, string>;
  validTimes: number[];
  sources: string[];
  valueHashes: string[];
}

const ARROW_VALUE_TYPE: Record<ShardEncoding, string> = { float32: 'float', float16: 'halffloat', uint8: 'uint8' };
// Large enough, and repetitive enough (testRow's values repeat every 257), that zstd shrinks the values buffer.
const SIZE = { height: 32, width: 48 };

const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-pyarrow-'));
after(() => rm(folder, { recursive: true, force: true }));

async function writeShard(encoding: ShardEncoding, compression: ShardCompression) {
  const root = join(folder, `${encoding}-${compression}`);
  const store = new FolderStore(root);
  const rows = [0, 1, 2].map((hours) => testRow(hour(hours), SIZE));
  const writer = createShardWriter({ store, normalization: SEED_NORMALIZATION, encoding, compression });
  for (const row of rows) await writer.append(row);
  const [manifest] = await writer.close();
  return { rows, manifest: manifest!, path: join(root, manifest!.dataKey) };
}

async function readWithPyarrow(path: string): Promise<PyarrowView> {
  const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, path], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout) as PyarrowView;
}

describe('shards: read by pyarrow, Arrow reference implementation', () => {
  for (const compression of ['zstd', 'none'] as const) {
    for (const encoding of ['float32', 'float16', 'uint8'] as const) {
      it(`pyarrow reads a ${encoding} shard compressed with ${compression}: metadata, times, sources and every value byte`, async () => {
        const { rows, manifest, path } = await writeShard(encoding, compression);
        const view = await readWithPyarrow(path);
        assert.deepEqual(
          { field: view.metadata.field, encoding: view.metadata.encoding, height: view.metadata.height, width: view.metadata.width, normalization: JSON.parse(view.metadata.normalization!) },
          { field: manifest.field, encoding, height: String(SIZE.height), width: String(SIZE.width), normalization: SEED_NORMALIZATION },
        );
        assert.deepEqual(view.types, { validTime: 'timestamp[ms, tz=UTC]', source: 'string', values: `fixed_size_list<value: ${ARROW_VALUE_TYPE[encoding]} not null>[${SIZE.height * SIZE.width}]` });
        assert.deepEqual(view.validTimes, rows.map((row) => row.validTime.getTime()));
        assert.deepEqual(view.sources, rows.map((row) => row.source));
        const expected = rows.map((row) => {
          const encoded = encodeValues(row.values, encoding, SEED_NORMALIZATION, 'test row');
          return createHash('sha256').update(new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength)).digest('hex');
        });
        assert.deepEqual(view.valueHashes, expected);
      });
    }
  }

  it('a zstd shard is smaller than the same rows uncompressed, so the files above did exercise compressed buffers', async () => {
    for (const encoding of ['float32', 'float16', 'uint8'] as const) {
      const zstd = await writeShard(encoding, 'zstd');
      const none = await writeShard(encoding, 'none');
      assert.equal(zstd.manifest.bytes, (await stat(zstd.path)).size);
      assert.ok(zstd.manifest.bytes < none.manifest.bytes / 2, `${encoding}: ${zstd.manifest.bytes} bytes with zstd, ${none.manifest.bytes} without`);
    }
  });
});
