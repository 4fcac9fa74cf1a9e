import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseIdx, selectRanges } from '../grib2/index.js';
import { sampleAnalysis } from '../stages/sources/sample-analyses.js';
import type { StageContext } from '../stages/stage.js';
import { createDecodeStage } from '../stages/transforms/decode.js';
import type { DecodedField, GribBytes } from '../stages/types.js';

export interface DemoOptions {
  /** The local folder standing in for the bucket. */
  dir: string;
  start: Date;
  hours: number;
}

export interface DemoAnalysis {
  key: string;
  bytesRead: number;
  objectSize: number;
  decoded: DecodedField;
}

const REFC = /:REFC:entire atmosphere:anl:/;

/**
 * The embedded default of the main job, offline: writes sample analyses into a folder in the
 * bucket's layout, then for each one selects REFC from the .idx, reads only its bytes and
 * decodes them. (Normalize, encode and publish join here as their issues land.)
 */
export async function* runDemo({ dir, start, hours }: DemoOptions, context: StageContext): AsyncIterable<DemoAnalysis> {
  const root = resolve(dir);
  const keys: string[] = [];
  for (let hour = 0; hour < hours; hour++) {
    const sample = sampleAnalysis(new Date(start.getTime() + hour * 3_600_000), hour);
    const path = join(root, sample.key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, sample.grib2);
    await writeFile(`${path}.idx`, sample.idx);
    keys.push(sample.key);
  }
  context.log.info({ dir: root, analyses: keys.length }, 'sample analyses written');

  const decode = createDecodeStage({ match: REFC });
  for (const key of keys) {
    const path = join(root, key);
    const ranges = selectRanges(parseIdx(await readFile(`${path}.idx`, 'utf8')), REFC);
    const file = await open(path);
    try {
      const objectSize = (await file.stat()).size;
      for (const range of ranges) {
        const end = range.end ?? objectSize - 1;
        const bytes = new Uint8Array(end - range.start + 1);
        await file.read(bytes, 0, bytes.length, range.start);
        const input: GribBytes = { source: { store: `file://${root}`, key, range: { start: range.start, end } }, bytes };
        for await (const decoded of decode.process(input, context)) yield { key, bytesRead: bytes.length, objectSize, decoded };
      }
    } finally {
      await file.close();
    }
  }
}
