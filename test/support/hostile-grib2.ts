import { smallAnalysisOfHour } from './analyses.js';

/**
 * A GRIB2 message of under 200 bytes that claims a Lambert grid of `nx` x `ny` points, every one
 * packed in 0 bits (simple packing, template 5.0: a constant field), so that section 7 holds no
 * data at all. Sections 1, 3 and 4 are the small analysis's, with the grid's size changed.
 */
export function constantFieldClaiming(nx: number, ny: number): Uint8Array {
  const source = smallAnalysisOfHour(0).grib2;
  const view = new DataView(source.buffer, source.byteOffset, source.byteLength);
  const kept: Uint8Array[] = [];
  for (let at = 16; at < source.length - 4; at += view.getUint32(at)) {
    const number = source[at + 4]!;
    if (number === 1 || number === 3 || number === 4) kept.push(Uint8Array.from(source.subarray(at, at + view.getUint32(at))));
  }
  const grid = new DataView(kept[1]!.buffer);
  grid.setUint32(6, nx * ny);
  grid.setUint32(30, nx);
  grid.setUint32(34, ny);
  const representation = new Uint8Array(21);
  const r = new DataView(representation.buffer);
  r.setUint32(0, 21);
  r.setUint8(4, 5);
  r.setUint32(5, nx * ny);
  r.setUint16(9, 0);
  r.setFloat32(11, 55);
  const bitmap = Uint8Array.of(0, 0, 0, 6, 6, 255);
  const data = Uint8Array.of(0, 0, 0, 5, 7);
  const body = [...kept.slice(0, 3), representation, bitmap, data];
  const length = 16 + body.reduce((sum, part) => sum + part.length, 0) + 4;
  const message = new Uint8Array(length);
  message.set([0x47, 0x52, 0x49, 0x42, 0, 0, 0, 2]);
  new DataView(message.buffer).setUint32(12, length);
  let at = 16;
  for (const part of body) message.set(part, at), (at += part.length);
  message.set([0x37, 0x37, 0x37, 0x37], at);
  return message;
}
