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

/**
 * The most one buffer of a shard may expand to. A record batch holds one row, so its largest
 * buffer is one field's values: 7.6 MB for HRRR's 1799 x 1059 points in float32.
 */
const MAX_BUFFER_BYTES = 64 * 1024 * 1024;

await zstd.init();
compressionRegistry.set(CompressionType.ZSTD, { encode: (data) => zstd.compress(data, ZSTD_LEVEL), decode: (data) => zstd.decompress(withinLimit(data)) });

/**
 * The zstd frame, refused when its header claims more than MAX_BUFFER_BYTES: the decompressor
 * allocates what the header claims in WebAssembly memory, which never shrinks, so a few KiB could
 * otherwise hold gigabytes for the life of the process. A frame that gives no size is expanded
 * into at most 1 MiB (the decompressor's default) and fails past it.
 */
function withinLimit(frame: Uint8Array): Uint8Array {
  const claimed = frameContentSize(frame);
  if (claimed !== undefined && claimed > MAX_BUFFER_BYTES) throw new Error(`a zstd buffer claims ${claimed} bytes, more than the ${MAX_BUFFER_BYTES} a shard's buffer may have`);
  return frame;
}

/** The content size in a zstd frame's header (RFC 8878, 3.1.1.1), when the frame gives one. */
function frameContentSize(frame: Uint8Array): number | undefined {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.byteLength < 5 || view.getUint32(0, true) !== 0xfd2fb528) return undefined;
  const descriptor = frame[4]!;
  const singleSegment = (descriptor >> 5) & 1;
  const sizeBytes = [singleSegment, 2, 4, 8][descriptor >> 6]!;
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]!;
  if (sizeBytes === 0 || frame.byteLength < at + sizeBytes) return undefined;
  if (sizeBytes === 1) return view.getUint8(at);
  if (sizeBytes === 2) return view.getUint16(at, true) + 256;
  if (sizeBytes === 4) return view.getUint32(at, true);
  return Number(view.getBigUint64(at, true));
}

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
