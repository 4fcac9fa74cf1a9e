import { crc32 } from 'node:zlib';
import type { Headers } from '../bus.js';

/**
 * How one record is laid out in a partition file:
 *
 *   u32 payload length | u32 CRC-32 of the payload | payload
 *   payload: f64 timestamp (ms) | i32 key length (-1: no key) | key
 *            | u16 header count | per header: u16 name length, name (UTF-8), u32 value length, value
 *            | u32 value length | value
 *
 * All integers big-endian. The checksum tells a whole record from one whose write was cut short.
 */
export interface StoredRecord {
  key: Uint8Array | null;
  value: Uint8Array;
  headers: Headers;
  timestamp: Date;
}

const frameHeaderBytes = 8;
/** Larger lengths are garbage, not records: nothing the pipeline writes comes near this. */
const maxPayloadBytes = 64 * 1024 * 1024;

export function encodeFrame(record: StoredRecord): Buffer {
  const headers = Object.entries(record.headers).map(([name, value]) => [Buffer.from(name, 'utf8'), value] as const);
  const keyLength = record.key?.length ?? 0;
  const payloadLength = 8 + 4 + keyLength + 2 + headers.reduce((sum, [name, value]) => sum + 2 + name.length + 4 + value.length, 0) + 4 + record.value.length;
  if (payloadLength > maxPayloadBytes) throw new RangeError(`record of ${payloadLength} bytes exceeds the ${maxPayloadBytes}-byte limit`);
  const frame = Buffer.allocUnsafe(frameHeaderBytes + payloadLength);
  let at = frameHeaderBytes;
  at = frame.writeDoubleBE(record.timestamp.getTime(), at);
  at = frame.writeInt32BE(record.key ? record.key.length : -1, at);
  if (record.key) {
    frame.set(record.key, at);
    at += record.key.length;
  }
  at = frame.writeUInt16BE(headers.length, at);
  for (const [name, value] of headers) {
    at = frame.writeUInt16BE(name.length, at);
    frame.set(name, at);
    at = frame.writeUInt32BE(value.length, at + name.length);
    frame.set(value, at);
    at += value.length;
  }
  at = frame.writeUInt32BE(record.value.length, at);
  frame.set(record.value, at);
  frame.writeUInt32BE(payloadLength, 0);
  frame.writeUInt32BE(crc32(frame.subarray(frameHeaderBytes)), 4);
  return frame;
}

/** One frame read from a buffer, and how many bytes it took. */
export interface DecodedFrame {
  record: StoredRecord;
  bytes: number;
}

/**
 * The frame at the start of `buffer`, or undefined when the buffer does not hold a whole, intact
 * one: the end of what was written so far, or a write that was cut short.
 */
export function decodeFrame(buffer: Buffer): DecodedFrame | undefined {
  if (buffer.length < frameHeaderBytes) return undefined;
  const payloadLength = buffer.readUInt32BE(0);
  if (payloadLength > maxPayloadBytes || buffer.length < frameHeaderBytes + payloadLength) return undefined;
  const payload = buffer.subarray(frameHeaderBytes, frameHeaderBytes + payloadLength);
  if (crc32(payload) !== buffer.readUInt32BE(4)) return undefined;
  return { record: decodePayload(payload), bytes: frameHeaderBytes + payloadLength };
}

/** The length a frame at the start of `buffer` declares, when its header is there and sane: to read enough. */
export function declaredFrameBytes(buffer: Buffer): number | undefined {
  if (buffer.length < frameHeaderBytes) return undefined;
  const payloadLength = buffer.readUInt32BE(0);
  return payloadLength > maxPayloadBytes ? undefined : frameHeaderBytes + payloadLength;
}

function decodePayload(payload: Buffer): StoredRecord {
  // Copies, so that records do not pin the read buffer.
  const take = (start: number, length: number) => new Uint8Array(payload.subarray(start, start + length));
  let at = 0;
  const timestamp = new Date(payload.readDoubleBE(at));
  at += 8;
  const keyLength = payload.readInt32BE(at);
  at += 4;
  const key = keyLength < 0 ? null : take(at, keyLength);
  at += Math.max(keyLength, 0);
  const headerCount = payload.readUInt16BE(at);
  at += 2;
  const headers: Headers = {};
  for (let i = 0; i < headerCount; i++) {
    const nameLength = payload.readUInt16BE(at);
    const name = payload.toString('utf8', at + 2, at + 2 + nameLength);
    at += 2 + nameLength;
    const valueLength = payload.readUInt32BE(at);
    headers[name] = take(at + 4, valueLength);
    at += 4 + valueLength;
  }
  const valueLength = payload.readUInt32BE(at);
  return { key, value: take(at + 4, valueLength), headers, timestamp };
}
