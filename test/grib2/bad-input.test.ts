import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, it } from 'node:test';
import { Grib2Error, decodeValues, readFields, type Grib2ErrorKind } from '../../grib2/index.js';
import { sharedData } from '../paths.js';
import { eccodesReference } from '../reference/eccodes.js';

const file = readFileSync(join(sharedData, 'hrrr', 'hrrr.20221014.t01z.wrfsubhf.REFC-VBDSF.grib2'));
/** Message 1 of the file: REFC, template 5.3 order 2, 1,905,141 points. */
const refc = Uint8Array.from(file.subarray(0, 432197));

/** Byte offset of each section of the REFC message, found by walking the section lengths. */
function sectionStarts(message: Uint8Array): Record<number, number> {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const starts: Record<number, number> = {};
  for (let at = 16; at < message.length - 4; at += view.getUint32(at)) starts[message[at + 4]!] = at;
  return starts;
}
const sections = sectionStarts(refc);

function mutated(change: (bytes: Uint8Array, view: DataView) => void, bytes: Uint8Array = refc): Uint8Array {
  const copy = Uint8Array.from(bytes);
  change(copy, new DataView(copy.buffer));
  return copy;
}

async function decodeAll(bytes: Uint8Array): Promise<Float32Array[]> {
  return Promise.all(readFields(bytes).map(decodeValues));
}

async function assertGrib2Error(bytes: Uint8Array, expected: { kind: Grib2ErrorKind; section?: number; template?: number; offset?: number; message: RegExp }) {
  await assert.rejects(decodeAll(bytes), (error: unknown) => {
    assert.ok(error instanceof Grib2Error, `not a Grib2Error: ${String(error)}`);
    assert.equal(error.kind, expected.kind);
    if (expected.section !== undefined) assert.equal(error.section, expected.section);
    if (expected.template !== undefined) assert.equal(error.template, expected.template);
    if (expected.offset !== undefined) assert.equal(error.offset, expected.offset);
    assert.match(error.message, expected.message);
    return true;
  });
}

describe('bad GRIB2 input is a Grib2Error naming the section, the template and the byte offset', () => {
  it('the sections of the REFC message are where the tests expect them', () => {
    assert.deepEqual(Object.keys(sections).map(Number), [1, 3, 4, 5, 6, 7]);
  });

  it('wrong magic', () =>
    assertGrib2Error(mutated((b) => (b[3] = 0x58)), { kind: 'bad-magic', section: 0, offset: 0, message: /GRIB2 section 0 at byte 0: expected "GRIB", found bytes 47 52 49 58/ }));

  it('GRIB edition 1', () =>
    assertGrib2Error(mutated((b) => (b[7] = 1)), { kind: 'unsupported-edition', section: 0, offset: 7, message: /edition 1/ }));

  it('a message cut short (a truncated download)', () =>
    assertGrib2Error(refc.subarray(0, 200_000), { kind: 'truncated', section: 0, offset: 8, message: /declares 432197 bytes, only 200000 are there/ }));

  it('fewer bytes than section 0', () => assertGrib2Error(refc.subarray(0, 10), { kind: 'truncated', section: 0, message: /10 bytes left/ }));

  it('a missing end section', () =>
    assertGrib2Error(mutated((b) => b.set([0x37, 0x37, 0x37, 0x30], b.length - 4)), { kind: 'missing-end', section: 8, offset: refc.length - 4, message: /does not end with "7777"/ }));

  it('a section length that runs past the message', () =>
    assertGrib2Error(mutated((_, v) => v.setUint32(sections[3]!, 10_000_000)), { kind: 'bad-length', section: 3, offset: sections[3], message: /declares 10000000 octets/ }));

  it('a section length too short for its template', () =>
    assertGrib2Error(
      mutated((b, v) => {
        // Section 3 shrunk by 20 octets, the octets given to section 4 ahead of it (as padding is not allowed, re-point section 4).
        v.setUint32(sections[3]!, v.getUint32(sections[3]!) - 20);
        b.copyWithin(sections[3]! + v.getUint32(sections[3]!), sections[4]!, b.length);
        v.setUint32(8 + 4, b.length - 20);
        b.set([0x37, 0x37, 0x37, 0x37], b.length - 24);
      }).subarray(0, refc.length - 20),
      { kind: 'bad-length', section: 3, template: 30, message: /section is 61 octets long but octets/ },
    ));

  it('sections out of order', () =>
    assertGrib2Error(mutated((b) => (b[sections[4]! + 4] = 6)), { kind: 'bad-section-order', section: 6, message: /section 6 cannot follow section 3/ }));

  it('an unknown grid template', () =>
    assertGrib2Error(mutated((_, v) => v.setUint16(sections[3]! + 12, 40)), { kind: 'unsupported-template', section: 3, template: 40, message: /only grid templates 3.0 and 3.30/ }));

  it('an unknown product template', () =>
    assertGrib2Error(mutated((_, v) => v.setUint16(sections[4]! + 7, 32)), { kind: 'unsupported-template', section: 4, template: 32, message: /product templates 4.0 and 4.8/ }));

  it('an unknown data representation template', () =>
    assertGrib2Error(mutated((_, v) => v.setUint16(sections[5]! + 9, 50)), { kind: 'unsupported-template', section: 5, template: 50, message: /data representation templates/ }));

  it('a bit width that cannot be', () =>
    assertGrib2Error(mutated((b) => (b[sections[5]! + 19] = 40)), { kind: 'bad-bit-width', section: 5, template: 3, offset: sections[5]! + 19, message: /40 bits per value/ }));

  it('group widths that cannot be', () =>
    assertGrib2Error(mutated((b) => (b[sections[5]! + 35] = 200)), { kind: 'bad-bit-width', section: 7, template: 3, message: /bits wide: at most 32/ }));

  it('a group width read from 32 bits is refused when 2^31 or more, not wrapped to a negative width', () => {
    // One group of every value, its width in 32 bits: 0xfffffff0, which an Int32Array holds as -16.
    const data = new Uint8Array(6 + 2 + 4 + 16);
    data.set(refc.subarray(sections[7]! + 5, sections[7]! + 11)); // the spatial differencing descriptors
    new DataView(data.buffer).setUint32(8, 0xfffffff0);
    const bytes = new Uint8Array(sections[7]! + 5 + data.length + 4);
    bytes.set(refc.subarray(0, sections[7]!));
    bytes.set(data, sections[7]! + 5);
    bytes.set([0x37, 0x37, 0x37, 0x37], bytes.length - 4);
    const view = new DataView(bytes.buffer);
    view.setUint32(12, bytes.length);
    view.setUint32(sections[5]! + 31, 1); // number of groups
    view.setUint8(sections[5]! + 35, 0); // reference for group widths
    view.setUint8(sections[5]! + 36, 32); // bits for group widths
    view.setUint32(sections[5]! + 42, 1799 * 1059); // true length of the last group
    view.setUint8(sections[5]! + 46, 0); // bits for group lengths
    view.setUint32(sections[7]!, 5 + data.length);
    bytes[sections[7]! + 4] = 7;
    return assertGrib2Error(bytes, { kind: 'bad-bit-width', section: 7, template: 3, message: /group 0 is 4294967280 bits wide: at most 32/ });
  });

  it('group lengths that do not add up to the number of values', () =>
    assertGrib2Error(mutated((_, v) => v.setUint32(sections[5]! + 42, 999_999)), { kind: 'bad-value', section: 7, message: /group lengths add up to/ }));

  it('an end of the statistical interval (template 4.8) that is not a date', () => {
    const vbdsf = Uint8Array.from(file.subarray(refc.length)); // message 2, VBDSF: template 4.8
    const section4 = sectionStarts(vbdsf)[4]!;
    vbdsf[section4 + 36] = 13; // month
    return assertGrib2Error(vbdsf, { kind: 'bad-value', section: 4, template: 8, offset: section4 + 34, message: /end of the overall time interval 2022-13-\d+ \d+:\d+:\d+ is not a date/ });
  });

  it('a grid that does not hold the declared number of points', () =>
    assertGrib2Error(mutated((_, v) => v.setUint32(sections[3]! + 30, 1800)), { kind: 'bad-value', section: 3, message: /1800 x 1059 points does not hold/ }));

  it('a message read from a byte range alone decodes like the same message in its file', async () => {
    const whole = readFields(file);
    assert.equal(whole.length, 2);
    const second = whole[1]!;
    const alone = readFields(file.subarray(second.message.offset, second.message.offset + second.message.length));
    assert.equal(alone.length, 1);
    assert.equal(alone[0]!.parameter.shortName, 'VBDSF');
    assert.deepEqual(await decodeValues(alone[0]!), await decodeValues(second));
  });
});

/** A small deterministic generator, so that a failing mutation can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('fuzzing real messages: every mutation decodes consistently or throws a Grib2Error', () => {
  const headerEnd = sections[7]! + 5 + 12_000; // sections 0 to 6, descriptors and group descriptions

  it('single bytes changed in the headers, the group descriptions and anywhere', { timeout: 300_000 }, async () => {
    const next = random(20221014);
    const outcomes = { decoded: 0, refused: 0 };
    for (let trial = 0; trial < 120; trial++) {
      const anywhere = trial % 4 === 3;
      const at = Math.floor(next() * (anywhere ? refc.length : headerEnd));
      const bytes = mutated((b) => (b[at] = Math.floor(next() * 256)));
      try {
        for (const values of await decodeAll(bytes)) assert.equal(values.length, 1799 * 1059, `trial ${trial}: byte ${at}`);
        outcomes.decoded++;
      } catch (error) {
        assert.ok(error instanceof Grib2Error, `trial ${trial}, byte ${at}: ${String(error)}`);
        outcomes.refused++;
      }
    }
    assert.ok(outcomes.refused > 0 && outcomes.decoded > 0, JSON.stringify(outcomes));
  });

  it('truncation at any length is refused', async () => {
    const next = random(7);
    for (let trial = 0; trial < 40; trial++) {
      const length = Math.floor(next() * refc.length);
      await assert.rejects(decodeAll(refc.subarray(0, length)), Grib2Error, `cut at ${length}`);
    }
  });
});

describe('corrupt PNG and JPEG 2000 images (templates 5.41, 5.40) are refused or decoded, never a crash', async () => {
  const files = await eccodesReference();
  for (const name of ['png-bitmap', 'jpeg-bitmap', 'jpeg']) {
    it(name, { timeout: 300_000 }, async () => {
      const original = readFileSync(files.find((file) => file.name === name)!.path);
      const dataStart = readFields(original)[0]!.packed.dataSection.start + 5;
      const next = random(name.length);
      for (let trial = 0; trial < 40; trial++) {
        const bytes = mutated((b) => {
          for (let k = 0; k < 3; k++) b[dataStart + Math.floor(next() * 2000)] = Math.floor(next() * 256);
        }, original);
        try {
          const [values] = await decodeAll(bytes);
          assert.equal(values!.length, readFields(original)[0]!.grid.numberOfDataPoints);
        } catch (error) {
          assert.ok(error instanceof Grib2Error, `trial ${trial}: ${String(error)}`);
        }
      }
    });
  }
});

describe('a JPEG 2000 code stream (template 5.40) that does not match section 5 is refused before it is decoded', async () => {
  const files = await eccodesReference();
  const original = (name: string) => readFileSync(files.find((file) => file.name === name)!.path);
  /** The fixture with its code stream's SIZ marker segment changed (octets from the start of the code stream). */
  function withSiz(name: string, change: (siz: DataView) => void): Uint8Array {
    const bytes = Uint8Array.from(original(name));
    const start = readFields(bytes)[0]!.packed.dataSection.start + 5;
    change(new DataView(bytes.buffer, start));
    return bytes;
  }

  it('an image of more samples than section 5 declares values', () =>
    // 20000 x 20000 samples would take the codec 1.6 GB and many seconds to decode before the count was compared.
    assertGrib2Error(
      withSiz('jpeg', (siz) => {
        siz.setUint32(8, 20_000); // Xsiz
        siz.setUint32(12, 20_000); // Ysiz
      }),
      { kind: 'bad-value', section: 7, template: 40, message: /JPEG 2000 image of 20000 x 20000 samples, section 5 declares 1905141 values/ },
    ));

  it('a component subsampled across (XRsiz 2), which the codec decodes into the wrong values', () =>
    assertGrib2Error(
      withSiz('jpeg-bitmap', (siz) => siz.setUint8(43, 2)),
      { kind: 'unsupported-template', section: 7, template: 40, message: /JPEG 2000 component subsampled 2 x 1, of 30580 x 1 samples in an image of 61160 x 1: GRIB2 packs one sample per value/ },
    ));

  it('a subsampling that leaves the component the image\'s size (YRsiz 32 on an image of one row) decodes as ecCodes does', async () => {
    const bytes = withSiz('jpeg-bitmap', (siz) => siz.setUint8(44, 32));
    const [reference] = await files.find((file) => file.name === 'jpeg-bitmap')!.messages();
    assert.deepEqual((await decodeAll(bytes))[0], reference!.values);
  });
});

describe('a bitmap reused by indicator 254 (the previous bitmap) must fit the grid it is used for', async () => {
  const files = await eccodesReference();
  const original = (name: string) => Uint8Array.from(readFileSync(files.find((file) => file.name === name)!.path));
  function section(message: Uint8Array, number: number): Uint8Array {
    const at = sectionStarts(message)[number]!;
    return message.subarray(at, at + new DataView(message.buffer, message.byteOffset).getUint32(at));
  }

  it('a bitmap of a 360 x 181 grid reused for a 1799 x 1059 grid in the same message', () => {
    const small = original('png-bitmap'); // 3.0, 360 x 181, a bitmap
    const large = original('simple-bitmap'); // 3.30, 1799 x 1059, a bitmap
    const reuse = new Uint8Array(6);
    new DataView(reuse.buffer).setUint32(0, 6);
    reuse.set([6, 254], 4);
    const parts = [
      small.subarray(0, 16),
      ...[1, 3, 4, 5, 6, 7].map((number) => section(small, number)),
      ...[3, 4, 5].map((number) => section(large, number)),
      reuse,
      section(large, 7),
      new TextEncoder().encode('7777'),
    ];
    const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
    parts.reduce((at, part) => (bytes.set(part, at), at + part.length), 0);
    new DataView(bytes.buffer).setUint32(12, bytes.length);
    return assertGrib2Error(bytes, { kind: 'bad-value', section: 6, message: /previous bitmap, of 65160 points, cannot serve a grid of 1905141 points/ });
  });
});

describe('a PNG image (template 5.41) that is corrupt or does not match section 5 is refused', async () => {
  const files = await eccodesReference();
  const pngBitmap = () => Uint8Array.from(readFileSync(files.find((file) => file.name === 'png-bitmap')!.path));
  const dataOf = (bytes: Uint8Array) => {
    const { start, length } = readFields(bytes)[0]!.packed.dataSection;
    return bytes.subarray(start + 5, start + length);
  };

  it('one bit of its compressed pixels changed: the chunk\'s CRC says so, rather than 48,658 values changing', () => {
    const bytes = pngBitmap();
    const png = dataOf(bytes);
    png[Math.floor(png.length * 0.3)]! ^= 0x01;
    return assertGrib2Error(bytes, { kind: 'bad-value', section: 7, template: 41, message: /the PNG image does not decode: CRC mismatch for chunk IDAT/ });
  });

  it('an image header (IHDR, with its CRC) of more pixels than section 5 declares values', { timeout: 20_000 }, () => {
    // The decoder never returned from an image 2^31 - 1 pixels wide.
    const bytes = pngBitmap();
    const png = dataOf(bytes);
    const view = new DataView(png.buffer, png.byteOffset);
    view.setUint32(16, 2 ** 31 - 1); // width
    view.setUint32(20, 1); // height
    view.setUint32(29, crc32(png.subarray(12, 29)));
    return assertGrib2Error(bytes, { kind: 'bad-value', section: 7, template: 41, message: /PNG image of 2147483647 x 1 pixels, section 5 declares 61160 values/ });
  });
});
