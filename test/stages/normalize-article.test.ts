import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decode as decodePng } from 'fast-png';
import { decodeValues, readFields } from '../../grib2/index.js';
import { modelConfig, SEED_NORMALIZATION } from '../../model/config.js';
import { alertPicture } from '../../model/picture.js';
import { attributed, silentLogger } from '../../stages/stage.js';
import { createNormalizeStage } from '../../stages/transforms/normalize.js';
import type { NormalizedField } from '../../stages/types.js';
import { repoRoot, sharedData } from '../paths.js';

/** Debian's python3 carries python3-eccodes (see test/reference/eccodes.ts). */
const PYTHON = process.env.HRRR_EMBED_ECCODES_PYTHON ?? '/usr/bin/python3';

interface ArticleInput {
  values: Float32Array;
  facts: { scanningMode: number; firstRowLatitude: number; lastRowLatitude: number; belowZero: number; missingInCrop: number };
}

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'hrrr-embed-article-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

/** The article's input from the file's first message, by its own recipe in Python over ecCodes. */
async function articleInput(file: string): Promise<ArticleInput> {
  const out = join(scratch, `${file}.f32`);
  const { stdout } = await promisify(execFile)(PYTHON, [join(repoRoot, 'test', 'reference', 'article_normalize.py'), join(sharedData, 'hrrr', file), out]);
  const bytes = await readFile(out);
  return { values: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), facts: JSON.parse(stdout) as ArticleInput['facts'] };
}

/** The first message of the file through the project's decoder and the seed model's normalize stage. */
async function ours(file: string): Promise<NormalizedField> {
  const field = readFields(await readFile(join(sharedData, 'hrrr', file)))[0]!;
  const decoded = { source: { store: 'file://', key: file }, field, values: await decodeValues(field) };
  const out: NormalizedField[] = [];
  const stage = createNormalizeStage({ model: modelConfig(), normalization: SEED_NORMALIZATION });
  for await (const normalized of attributed(stage, decoded, { log: silentLogger, signal: new AbortController().signal })) out.push(normalized);
  return out[0]!;
}

function differences(a: Float32Array, b: Float32Array): number {
  let count = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) count++;
  return count;
}

describe("the model's input from real HRRR files, against the article's recipe over ecCodes", () => {
  it('REFC: every one of the 1024 x 1792 values is what nan_to_num, clip to [0, 60], / 60 and Cropping2D((17, 18), (4, 3)) give', async () => {
    const file = 'hrrr.20221014.t01z.wrfsubhf.REFC-VBDSF.grib2';
    const [expected, normalized] = await Promise.all([articleInput(file), ours(file)]);
    assert.deepEqual([normalized.height, normalized.width], [1024, 1792]);
    assert.equal(expected.values.length, normalized.values.length);
    assert.equal(differences(expected.values, normalized.values), 0);
    // HRRR's no-echo floor (-10 dBZ) is most of the field, and becomes 0 as the article clips it.
    assert.ok(expected.facts.belowZero > 0.5, `${expected.facts.belowZero} of the values are below 0 dBZ`);
    // Scanning mode 64: image row 0 is the crop's southernmost row, as in the article's (y, x) arrays.
    assert.equal(expected.facts.scanningMode, 64);
    assert.ok(expected.facts.firstRowLatitude < expected.facts.lastRowLatitude);
  });

  it('a field with a bitmap: missing points become 0 as nan_to_num makes them, every value the same', async () => {
    const file = 'hrrr.t00z.wrfprsf00-space-bitmap.grib2';
    const [expected, normalized] = await Promise.all([articleInput(file), ours(file)]);
    assert.ok(expected.facts.missingInCrop > 0, 'the bitmap leaves points of the crop out');
    assert.equal(differences(expected.values, normalized.values), 0);
  });
});

describe('pictures', () => {
  it("are north up: the crop's last row (the northernmost) is the picture's top row", () => {
    const [height, width] = [8, 12];
    const values = new Float32Array(height * width);
    values.fill(1, (height - 1) * width);
    const png = decodePng(alertPicture({ height, width, values }, values, 1));
    const row = (y: number) => Array.from(png.data.subarray(y * png.width * 3, (y * png.width + width) * 3));
    const white = new Array<number>(width * 3).fill(255);
    assert.notDeepEqual(row(0), white, 'the top row holds the northern echo');
    assert.deepEqual(row(height - 1), white, 'the bottom row (the south) has none');
  });
});
