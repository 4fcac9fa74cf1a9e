import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BitReader } from '../../grib2/bits.js';
import {
  decodeValues,
  encodeGrib2Message,
  encodeGrib2MessageWithPacking,
  forecastWords,
  parseIdx,
  readFields,
  selectRanges,
  writeIdx,
  type ComplexPackingOptions,
  type Grib2MessageOptions,
  type GridOptions,
  type LambertConformalGridOptions,
  type LatLonGridOptions,
} from '../../grib2/index.js';
import { HRRR_GRID } from '../../stages/sources/sample-analyses.js';
import { repoRoot } from '../paths.js';

const SMALL_LAMBERT: LambertConformalGridOptions = { ...HRRR_GRID, Nx: 301, Ny: 203 };
const LATLON: LatLonGridOptions = {
  template: 0,
  Ni: 72,
  Nj: 37,
  latitudeOfFirstGridPointInDegrees: -90,
  longitudeOfFirstGridPointInDegrees: 0,
  latitudeOfLastGridPointInDegrees: 90,
  longitudeOfLastGridPointInDegrees: 355,
  iDirectionIncrementInDegrees: 5,
  jDirectionIncrementInDegrees: 5,
  resolutionAndComponentFlags: 48,
  scanningMode: 64,
  shapeOfTheEarth: 6,
};
const REFERENCE_TIME = new Date(Date.UTC(2019, 8, 20, 5));
/** REFC as HRRR packs it: steps of 1/16 dBZ, reference the minimum. */
const REFC_SCALING = { decimalScaleFactor: 0, binaryScaleFactor: -4 };

type Management = 0 | 1 | 2;
const PACKINGS: { label: string; packing: (management: Management) => ComplexPackingOptions }[] = [
  { label: '5.2', packing: (m) => ({ template: 2, ...REFC_SCALING, missingValueManagement: m }) },
  { label: '5.3 order 1', packing: (m) => ({ template: 3, orderOfSpatialDifferencing: 1, ...REFC_SCALING, missingValueManagement: m }) },
  { label: '5.3 order 2', packing: (m) => ({ template: 3, orderOfSpatialDifferencing: 2, ...REFC_SCALING, missingValueManagement: m }) },
];
const MANAGEMENTS: Management[] = [0, 1, 2];

interface Field {
  values: Float32Array;
  secondaryMissing?: Uint8Array;
}

/** A small deterministic generator, so that every run packs the same fields. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * dBZ like REFC: a -10 dBZ floor with storm cells, in steps of 1/16. Under missing value
 * management a corner without radar coverage and a band of rows are NaN (primary missing), and
 * under management 2 a block is marked secondary missing.
 */
function reflectivityLike(nx: number, ny: number, seed: number, management: Management): Field {
  const next = random(seed);
  const values = new Float32Array(nx * ny).fill(-10);
  const cells = Math.max(3, Math.round((nx * ny) / 50_000));
  for (let c = 0; c < cells; c++) {
    const cx = next() * nx;
    const cy = next() * ny;
    const radius = 3 + next() * Math.min(40, nx / 6);
    const peak = 15 + next() * 55;
    const reach = Math.ceil(radius * 3);
    for (let y = Math.max(0, Math.floor(cy - reach)); y < Math.min(ny, cy + reach); y++) {
      for (let x = Math.max(0, Math.floor(cx - reach)); x < Math.min(nx, cx + reach); x++) {
        const dbz = peak * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius ** 2)) - 10 + (next() - 0.5) * 3;
        const at = y * nx + x;
        values[at] = Math.max(values[at]!, Math.round(Math.min(dbz, 75) * 16) / 16);
      }
    }
  }
  if (management === 0) return { values };
  for (let y = 0; y < Math.ceil(ny / 5); y++) values.fill(Number.NaN, y * nx, y * nx + Math.ceil(nx / 4));
  const band = Math.floor(ny * 0.6);
  values.fill(Number.NaN, band * nx, (band + 3) * nx);
  if (management === 1) return { values };
  const secondaryMissing = new Uint8Array(nx * ny);
  for (let y = Math.floor(ny * 0.3); y < Math.floor(ny * 0.4); y++) {
    secondaryMissing.fill(1, y * nx + Math.floor(nx / 2), y * nx + Math.floor((nx * 3) / 4));
  }
  return { values, secondaryMissing };
}

/** What a decoder must give back: the input, NaN where primary or secondary missing. */
function expectedValues({ values, secondaryMissing }: Field): Float32Array {
  return Float32Array.from(values, (value, i) => (secondaryMissing?.[i] ? Number.NaN : value));
}

function countNaN(values: Float32Array): number {
  return values.reduce((count, value) => count + (Number.isNaN(value) ? 1 : 0), 0);
}

/** Index of the first value that is not exactly the expected one (NaN matching NaN), or -1. */
function firstDifference(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) return i;
  }
  return -1;
}

function assertSameValues(actual: Float32Array, expected: Float32Array, who: string): void {
  const at = firstDifference(actual, expected);
  assert.equal(at, -1, `${who}: value ${at} is ${actual[at]}, the input was ${expected[at]}`);
}

function refcMessage(grid: GridOptions, packing: ComplexPackingOptions, field: Field, forecastTime = 0): Grib2MessageOptions {
  return {
    discipline: 0,
    identification: { referenceTime: REFERENCE_TIME },
    grid,
    product: { parameterCategory: 16, parameterNumber: 196, generatingProcessIdentifier: 83, forecastTime, firstSurface: { type: 10, scaleFactor: 0, scaledValue: 0 } },
    packing,
    values: field.values,
    ...(field.secondaryMissing ? { secondaryMissing: field.secondaryMissing } : {}),
  };
}

async function decodeOne(bytes: Uint8Array) {
  const fields = readFields(bytes);
  assert.equal(fields.length, 1, 'one field per message');
  return { field: fields[0]!, values: await decodeValues(fields[0]!) };
}

/** Small fields whose packing has a trap: each must come back exactly, through both decoders. */
const EDGE_CASES: { name: string; management: Management; values: number[]; secondary?: number[]; groupLength: number }[] = [
  // Range 3 fills 2 bits: under management 1, 3 would be the missing code unless the width grows to 3 bits.
  { name: 'a group whose range fills its width (management 1)', management: 1, values: [0, 1, 2, 3, 0, 3, 3, 1], groupLength: 8 },
  { name: 'a group whose range is all ones less 1 (management 2)', management: 2, values: [0, 6, 2, 5, 6, 1, 4, 3], groupLength: 8 },
  // The constant group's reference 7 fills 3 bits: bits per value must make room for the missing code.
  { name: 'a constant group whose reference fills bits per value', management: 1, values: [0, 5, 7, 7, 7, 7, 1, 2], groupLength: 2 },
  { name: 'every value primary missing', management: 1, values: [NaN, NaN, NaN, NaN, NaN], groupLength: 2 },
  { name: 'every value secondary missing', management: 2, values: [1, 1, 1, 1, 1], secondary: [1, 1, 1, 1, 1], groupLength: 2 },
  { name: 'groups of primary and secondary missing values only', management: 2, values: [NaN, 0, NaN, 0, 5, 6], secondary: [0, 1, 0, 1, 0, 0], groupLength: 2 },
  { name: 'a constant field', management: 0, values: [3.5, 3.5, 3.5, 3.5, 3.5], groupLength: 2 },
  { name: 'a single present value among missing ones', management: 1, values: [NaN, 7, NaN, NaN], groupLength: 3 },
  { name: 'negative values and a last group shorter than the others', management: 0, values: [-3, -1.5, -2, -1000, 12.25, -7], groupLength: 4 },
];

function edgeCaseMessage(edge: (typeof EDGE_CASES)[number], packing: (m: Management) => ComplexPackingOptions): { message: Grib2MessageOptions; expected: Float32Array } {
  const grid: LatLonGridOptions = { ...LATLON, Ni: edge.values.length, Nj: 1, latitudeOfLastGridPointInDegrees: -90, longitudeOfLastGridPointInDegrees: 5 * (edge.values.length - 1) };
  const field: Field = { values: Float32Array.from(edge.values), ...(edge.secondary ? { secondaryMissing: Uint8Array.from(edge.secondary) } : {}) };
  const message = refcMessage(grid, { ...packing(edge.management), binaryScaleFactor: -2, groupLength: edge.groupLength }, field);
  return { message, expected: expectedValues(field) };
}

describe('GRIB2 writer: our decoder reads back exactly what was written', () => {
  for (const { label, packing } of PACKINGS) {
    for (const management of MANAGEMENTS) {
      it(`${label}, missing value management ${management}: every value of a reflectivity-like field comes back exactly`, async () => {
        const field = reflectivityLike(SMALL_LAMBERT.Nx, SMALL_LAMBERT.Ny, 7 + management, management);
        const expected = expectedValues(field);
        if (management > 0) assert.ok(countNaN(expected) > 0, 'the field has missing points');
        const { field: decoded, values } = await decodeOne(encodeGrib2Message(refcMessage(SMALL_LAMBERT, packing(management), field)));
        const representation = decoded.representation.packing;
        assert.equal(representation.template, packing(management).template);
        assert.ok(representation.template === 2 || representation.template === 3);
        assert.equal(representation.missingValueManagementUsed, management);
        assert.equal(representation.orderOfSpatialDifferencing, label.endsWith('order 2') ? 2 : label.endsWith('order 1') ? 1 : 0);
        assert.equal(representation.referenceValue, -10, 'the reference is the minimum');
        assertSameValues(values, expected, 'our decoder');
      });
    }
  }

  for (const edge of EDGE_CASES) {
    it(`${edge.name}: comes back exactly under 5.2 and 5.3 orders 1 and 2`, async () => {
      for (const { label, packing } of PACKINGS) {
        const { message, expected } = edgeCaseMessage(edge, packing);
        const { values } = await decodeOne(encodeGrib2Message(message));
        assertSameValues(values, expected, label);
      }
    });
  }

  it('writes primary missing as all ones and secondary as all ones less 1: in a widened group, and as the reference of an all-missing group', () => {
    // Group 0 has range 6, which fits 3 bits, but 6 and 7 are the missing codes of 3 bits: it must take 4.
    // Groups 1 and 2 are all primary and all secondary missing: width 0, their references the codes.
    const values = Float32Array.from([0, 1, 2, NaN, 0, 3, 4, 6, ...Array<number>(8).fill(NaN), ...Array<number>(8).fill(5)]);
    const secondaryMissing = Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, ...Array<number>(8).fill(0), ...Array<number>(8).fill(1)]);
    const message = refcMessage({ ...LATLON, Ni: 24, Nj: 1 }, { template: 2, decimalScaleFactor: 0, binaryScaleFactor: 0, missingValueManagement: 2, groupLength: 8 }, { values, secondaryMissing });
    const { bytes, packing } = encodeGrib2MessageWithPacking(message);
    const [field] = readFields(bytes);
    const { start, length } = field!.packed.dataSection;
    const reader = new BitReader(bytes.subarray(start + 5, start + length));
    const readGroupArray = (bits: number, offset = 0) => {
      const array = Array.from({ length: packing.numberOfGroupsOfDataValues }, () => offset + reader.read(bits));
      reader.alignToByte();
      return array;
    };
    assert.equal(packing.bitsPerValue, 2, 'the largest real reference, 0, plus room for the two codes');
    assert.deepEqual(readGroupArray(packing.bitsPerValue), [0, 0b11, 0b10], 'group references');
    assert.deepEqual(readGroupArray(packing.numberOfBitsUsedForTheGroupWidths, packing.referenceForGroupWidths), [4, 0, 0], 'group widths');
    readGroupArray(packing.numberOfBitsForScaledGroupLengths);
    assert.deepEqual(Array.from({ length: 8 }, () => reader.read(4)), [0, 1, 2, 15, 14, 3, 4, 6]);
  });

  it('writes the scale factors in sign and magnitude (E = -4 is 0x8004)', () => {
    const field = reflectivityLike(20, 10, 1, 0);
    const bytes = encodeGrib2Message(refcMessage({ ...SMALL_LAMBERT, Nx: 20, Ny: 10 }, { template: 2, decimalScaleFactor: -3, binaryScaleFactor: -4, missingValueManagement: 0 }, field));
    const [decoded] = readFields(bytes);
    const { start } = decoded!.packed.dataSection;
    const section5 = start - 6 - (decoded!.representation.dataRepresentationTemplateNumber === 2 ? 47 : 49);
    assert.equal(bytes[section5 + 4], 5, 'section 5 found');
    assert.deepEqual(Array.from(bytes.subarray(section5 + 15, section5 + 19)), [0x80, 0x04, 0x80, 0x03]);
  });

  it('refuses NaN values under missing value management 0 instead of packing them', () => {
    const values = Float32Array.from([1, NaN, 2, 3]);
    const message = refcMessage({ ...LATLON, Ni: 4, Nj: 1 }, { template: 2, ...REFC_SCALING, missingValueManagement: 0 }, { values });
    assert.throws(() => encodeGrib2Message(message), /value 1 is NaN/);
  });
});

const PYTHON = process.env.HRRR_EMBED_ECCODES_PYTHON ?? '/usr/bin/python3';
const DECODE_SCRIPT = join(repoRoot, 'test', 'reference', 'eccodes_decode.py');

interface EccodesDecode {
  keys: Record<string, number | string>;
  values: Float32Array;
}

interface Fixture {
  name: string;
  bytes: Uint8Array;
  expected: Float32Array;
}

/** Writes the fixtures, has ecCodes decode them all in one run, and gives its keys and values by name. */
async function decodeWithEccodes(dir: string, fixtures: Fixture[]): Promise<Map<string, EccodesDecode>> {
  const args: string[] = [];
  for (const { name, bytes } of fixtures) {
    await writeFile(join(dir, `${name}.grib2`), bytes);
    args.push(join(dir, `${name}.grib2`), join(dir, `${name}.f32`));
  }
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(PYTHON, [DECODE_SCRIPT, ...args], { maxBuffer: 16 << 20 }));
  } catch (error) {
    throw new Error(`ecCodes could not decode the writer's messages (is python3-eccodes installed? see infra/install-test-deps.sh): ${(error as Error).message}`);
  }
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, fixtures.length, 'ecCodes reports every file');
  const decoded = new Map<string, EccodesDecode>();
  for (const [i, { name }] of fixtures.entries()) {
    const raw = await readFile(join(dir, `${name}.f32`));
    decoded.set(name, { keys: JSON.parse(lines[i]!) as Record<string, number | string>, values: new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4) });
  }
  return decoded;
}

describe('GRIB2 writer: ecCodes, the reference codec, decodes what was written', () => {
  const fixtures: Fixture[] = [];
  const combination = (label: string, management: Management) => `${label.replaceAll(' ', '-').replace('.', '')}-missing${management}`;
  for (const { label, packing } of PACKINGS) {
    for (const management of MANAGEMENTS) {
      // One combination on the whole HRRR grid (the shape of real REFC), the others on a smaller one.
      const grid = label === '5.3 order 2' && management === 1 ? HRRR_GRID : SMALL_LAMBERT;
      const field = reflectivityLike(grid.Nx, grid.Ny, 11 + management, management);
      fixtures.push({ name: combination(label, management), bytes: encodeGrib2Message(refcMessage(grid, packing(management), field)), expected: expectedValues(field) });
    }
  }
  for (const [e, edge] of EDGE_CASES.entries()) {
    for (const [p, { packing }] of PACKINGS.entries()) {
      const { message, expected } = edgeCaseMessage(edge, packing);
      fixtures.push({ name: `edge${e}-packing${p}`, bytes: encodeGrib2Message(message), expected });
    }
  }
  const temperatures = Float32Array.from({ length: LATLON.Ni * LATLON.Nj }, (_, i) => Math.fround(Math.round(2731 + 300 * Math.sin(i / 50)) / 10));
  fixtures.push({
    name: 'latlon-temperature',
    bytes: encodeGrib2Message({
      discipline: 0,
      identification: { referenceTime: REFERENCE_TIME },
      grid: LATLON,
      product: { parameterCategory: 0, parameterNumber: 0, forecastTime: 6, firstSurface: { type: 103, scaleFactor: 0, scaledValue: 2 } },
      packing: { template: 3, orderOfSpatialDifferencing: 2, decimalScaleFactor: 1, binaryScaleFactor: 0, missingValueManagement: 0 },
      values: temperatures,
    }),
    expected: temperatures,
  });

  let dir = '';
  let eccodes = new Map<string, EccodesDecode>();
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hrrr-embed-writer-'));
    eccodes = await decodeWithEccodes(dir, fixtures);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const { label } of PACKINGS) {
    for (const management of MANAGEMENTS) {
      const name = combination(label, management);
      const order = label.endsWith('order 2') ? 2 : label.endsWith('order 1') ? 1 : 0;
      const fixture = fixtures.find((candidate) => candidate.name === name)!;
      it(`${label}, missing value management ${management}${fixture.expected.length === HRRR_GRID.Nx * HRRR_GRID.Ny ? ' (whole HRRR grid)' : ''}: ecCodes decodes every value as written and reports the packing`, () => {
        const { keys, values } = eccodes.get(name)!;
        assert.equal(keys.dataRepresentationTemplateNumber, order === 0 ? 2 : 3);
        assert.equal(keys.orderOfSpatialDifferencing, order);
        assert.equal(keys.missingValueManagementUsed, management);
        assert.equal(keys.numberOfValues, fixture.expected.length);
        if (management > 0) assert.ok(countNaN(values) > 0, 'ecCodes reports missing points');
        assertSameValues(values, fixture.expected, 'ecCodes');
      });
    }
  }

  for (const [e, edge] of EDGE_CASES.entries()) {
    it(`${edge.name}: ecCodes decodes it exactly under 5.2 and 5.3 orders 1 and 2`, () => {
      for (const [p, { label }] of PACKINGS.entries()) {
        const name = `edge${e}-packing${p}`;
        assertSameValues(eccodes.get(name)!.values, fixtures.find((fixture) => fixture.name === name)!.expected, `ecCodes, ${label}`);
      }
    });
  }

  it('ecCodes reads the HRRR Lambert grid, the REFC product and the scaling as written', () => {
    const name = combination('5.3 order 2', 1);
    const { keys } = eccodes.get(name)!;
    assert.equal(keys.totalLength, fixtures.find((fixture) => fixture.name === name)!.bytes.length);
    const expected: Record<string, number | string> = {
      discipline: 0, centre: 7, subCentre: 0, dataDate: 20190920, dataTime: 500, shortName: 'refc',
      gridDefinitionTemplateNumber: 30, numberOfDataPoints: 1799 * 1059, Nx: 1799, Ny: 1059, shapeOfTheEarth: 6,
      latitudeOfFirstGridPointInDegrees: 21.138123, longitudeOfFirstGridPointInDegrees: 237.280472,
      LaDInDegrees: 38.5, LoVInDegrees: 262.5, Latin1InDegrees: 38.5, Latin2InDegrees: 38.5, DxInMetres: 3000, DyInMetres: 3000,
      resolutionAndComponentFlags: 8, scanningMode: 64,
      productDefinitionTemplateNumber: 0, parameterCategory: 16, parameterNumber: 196, forecastTime: 0, indicatorOfUnitOfTimeRange: 1,
      typeOfFirstFixedSurface: 10, scaledValueOfFirstFixedSurface: 0,
      referenceValue: -10, binaryScaleFactor: -4, decimalScaleFactor: 0, bitMapIndicator: 255,
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(keys[key], value, key);
  });

  it('ecCodes reads a latitude/longitude grid, a 2 m level and D = 1 as written', () => {
    const { keys, values } = eccodes.get('latlon-temperature')!;
    const expected: Record<string, number | string> = {
      shortName: '2t', gridDefinitionTemplateNumber: 0, Ni: 72, Nj: 37,
      latitudeOfFirstGridPointInDegrees: -90, longitudeOfFirstGridPointInDegrees: 0,
      latitudeOfLastGridPointInDegrees: 90, longitudeOfLastGridPointInDegrees: 355,
      iDirectionIncrementInDegrees: 5, jDirectionIncrementInDegrees: 5, forecastTime: 6,
      typeOfFirstFixedSurface: 103, scaledValueOfFirstFixedSurface: 2, decimalScaleFactor: 1, binaryScaleFactor: 0,
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(keys[key], value, key);
    assertSameValues(values, temperatures, 'ecCodes');
  });
});

describe('GRIB2 writer: the .idx of a file of several messages', () => {
  const surfaces = [
    { variable: 'TMP', category: 0, number: 0, level: '2 m above ground', surface: { type: 103, scaleFactor: 0, scaledValue: 2 }, forecastTime: 6 },
    { variable: 'REFC', category: 16, number: 196, level: 'entire atmosphere', surface: { type: 10, scaleFactor: 0, scaledValue: 0 }, forecastTime: 6 },
    { variable: 'UGRD', category: 2, number: 2, level: '10 m above ground', surface: { type: 103, scaleFactor: 0, scaledValue: 10 }, forecastTime: 6 },
  ];
  const grid = { ...SMALL_LAMBERT, Nx: 40, Ny: 30 };
  const messages = surfaces.map(({ category, number, surface, forecastTime }, i) =>
    encodeGrib2Message({
      discipline: 0,
      identification: { referenceTime: REFERENCE_TIME },
      grid,
      product: { parameterCategory: category, parameterNumber: number, forecastTime, firstSurface: surface },
      packing: { template: 3, orderOfSpatialDifferencing: 2, ...REFC_SCALING, missingValueManagement: 0 },
      values: reflectivityLike(grid.Nx, grid.Ny, 100 + i, 0).values,
    }),
  );
  const offsets = messages.map((_, i) => messages.slice(0, i).reduce((total, message) => total + message.length, 0));
  const file = new Uint8Array(offsets.at(-1)! + messages.at(-1)!.length);
  messages.forEach((message, i) => file.set(message, offsets[i]));
  const idx = writeIdx(
    surfaces.map(({ variable, level, forecastTime }, i) => ({ offset: offsets[i]!, referenceTime: REFERENCE_TIME, variable, level, forecast: forecastWords(forecastTime) })),
  );

  it('is written in NCEP\'s line format, naming each message as the decoder does', () => {
    assert.equal(
      idx,
      `1:0:d=2019092005:TMP:2 m above ground:6 hour fcst:\n` +
        `2:${offsets[1]}:d=2019092005:REFC:entire atmosphere:6 hour fcst:\n` +
        `3:${offsets[2]}:d=2019092005:UGRD:10 m above ground:6 hour fcst:\n`,
    );
    const fields = readFields(file);
    assert.deepEqual(
      fields.map((field) => [field.message.offset, field.parameter.shortName, field.product.level]),
      surfaces.map(({ variable, level }, i) => [offsets[i], variable, level]),
    );
  });

  it('parses with parseIdx, and selectRanges(/:REFC:/) gives exactly the bytes of the REFC message', async () => {
    const entries = parseIdx(idx);
    assert.equal(entries.length, 3);
    assert.deepEqual(entries[1]!.referenceTime, REFERENCE_TIME);
    const ranges = selectRanges(entries, /:REFC:/);
    assert.equal(ranges.length, 1);
    const [range] = ranges;
    assert.equal(range!.start, offsets[1]);
    assert.equal(range!.end, offsets[1]! + messages[1]!.length - 1);
    const [field] = readFields(file.subarray(range!.start, range!.end! + 1));
    assert.equal(field!.parameter.shortName, 'REFC');
    assert.deepEqual(await decodeValues(field!), reflectivityLike(grid.Nx, grid.Ny, 101, 0).values);
  });

  it('words forecast times as wgrib2 does: "anl" at 0, then "N hour fcst" or "N min fcst"', () => {
    assert.equal(forecastWords(0), 'anl');
    assert.equal(forecastWords(6), '6 hour fcst');
    assert.equal(forecastWords(495, 0), '495 min fcst');
    assert.equal(
      writeIdx([{ offset: 0, referenceTime: REFERENCE_TIME, variable: 'REFC', level: 'entire atmosphere', forecast: forecastWords(0) }]),
      '1:0:d=2019092005:REFC:entire atmosphere:anl:\n',
    );
  });
});
