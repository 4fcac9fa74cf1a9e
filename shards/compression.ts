/**
 * Arrow IPC body compression for shards: ZSTD, the codec Arrow's other implementations (pyarrow,
 * arrow-rs, DuckDB) all read. apache-arrow's JS writer and reader compress only with a codec the
 * caller registers; this module registers one (zstd compiled to WebAssembly: no native build, and
 * it travels in the device bundle) when it is imported.
 */
import zstd from '@bokuweb/zstd-wasm';
import { CompressionType, compressionRegistry, RecordBatchFileWriter, type Table } from 'apache-arrow';
import type { ShardCompression } from './types.js';

/** The default, chosen by measuring (`npm run bench -- shards`). */
export const DEFAULT_COMPRESSION: ShardCompression = 'zstd';

/** Level 1: REFC fields (mostly zeros) shrink about 10 times, and a higher level gains a few per cent at twice the time. */
const ZSTD_LEVEL = 1;

await zstd.init();
compressionRegistry.set(CompressionType.ZSTD, { encode: (data) => zstd.compress(data, ZSTD_LEVEL), decode: (data) => zstd.decompress(data) });

/** Arrow's 8-byte prefix of a compressed buffer: its uncompressed length, or -1 when the buffer was left uncompressed. */
const UNCOMPRESSED = -1n;

/**
 * apache-arrow 21.2 writes each compressed buffer's compressed length into its prefix, where the
 * format says the uncompressed length; its own reader ignores the prefix, pyarrow sizes the
 * output by it and refuses the file. Fixed upstream (apache/arrow-js#470, not yet released); this
 * writes the uncompressed length into each prefix after the library's own compression.
 */
class SpecCompliantFileWriter extends RecordBatchFileWriter {
  protected override _compressBodyBuffers(buffers: ArrayBufferView[]) {
    const compressed = super._compressBodyBuffers(buffers);
    buffers.forEach((original, i) => {
      const prefix = compressed.buffers[2 * i]!;
      const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
      if (prefix.byteLength === 8 && view.getBigInt64(0, true) !== UNCOMPRESSED) view.setBigInt64(0, BigInt(original.byteLength), true);
    });
    return compressed;
  }
}

/** The table as an Arrow IPC file, its buffers compressed as asked. */
export function tableToCompressedIPC(table: Table, compression: ShardCompression): Uint8Array {
  const compressionType = compression === 'zstd' ? CompressionType.ZSTD : null;
  return new SpecCompliantFileWriter({ compressionType }).writeAll(table).toUint8Array(true);
}
