import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Grib2Field } from '../../grib2/index.js';
import { repoRoot, sharedData } from '../paths.js';

/** Debian's python3 carries python3-eccodes; the PATH's python3 may be another one. */
const PYTHON = process.env.HRRR_EMBED_ECCODES_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(repoRoot, 'test', 'reference', 'eccodes_reference.py');
export const REAL_FILES = [
  'hrrr.20221014.t01z.wrfsubhf.REFC-VBDSF.grib2',
  'hrrr.t06z.wrfsfcf01-TMP.grib2',
  'hrrr.t06z.wrfsfcf01-UGRD.grib2',
  'hrrr.t00z.wrfprsf00-space-bitmap.grib2',
].map((name) => join(sharedData, 'hrrr', name));

export interface ReferenceMessage {
  /** ecCodes's keys of the message, code-table keys as numbers. */
  keys: Record<string, number>;
  /** ecCodes's values rounded to float32, NaN where missing. */
  values: Float32Array;
}

export interface ReferenceFile {
  name: string;
  path: string;
  messages: () => Promise<ReferenceMessage[]>;
}

let made: Promise<ReferenceFile[]> | undefined;

/**
 * Fixtures packed by ecCodes and ecCodes's decode of them and of the real HRRR files, made once
 * per version of the script into .work/ (a run of a few seconds) and reused after that. Made once
 * per process too: two makings at once in one process would share its scratch folder.
 */
export function eccodesReference(): Promise<ReferenceFile[]> {
  made ??= makeReference();
  return made;
}

async function makeReference(): Promise<ReferenceFile[]> {
  const script = await readFile(SCRIPT);
  const dir = join(repoRoot, '.work', 'eccodes-reference', createHash('sha256').update(script).digest('hex').slice(0, 12));
  if (!existsSync(dir)) {
    await removeStaleReferences(dirname(dir));
    const partial = `${dir}.partial-${process.pid}`;
    await mkdir(partial, { recursive: true });
    try {
      await promisify(execFile)(PYTHON, [SCRIPT, partial, REAL_FILES[0]!, ...REAL_FILES], { maxBuffer: 64 << 20 });
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      throw new Error(`ecCodes reference could not be made (is python3-eccodes installed? see infra/install-test-deps.sh): ${(error as Error).message}`);
    }
    await rename(partial, dir).catch(async () => rm(partial, { recursive: true, force: true }));
  }
  const files = (await readdir(dir)).filter((name) => name.endsWith('.grib2')).sort();
  return files.map((file) => ({
    name: basename(file, '.grib2'),
    path: join(dir, file),
    messages: () => readMessages(dir, basename(file, '.grib2')),
  }));
}

/** References made by earlier versions of the script are never read again. */
async function removeStaleReferences(parent: string): Promise<void> {
  if (!existsSync(parent)) return;
  for (const entry of await readdir(parent)) {
    if (!entry.includes('.partial-')) await rm(join(parent, entry), { recursive: true, force: true });
  }
}

async function readMessages(dir: string, name: string): Promise<ReferenceMessage[]> {
  const messages: ReferenceMessage[] = [];
  for (let index = 0; existsSync(join(dir, `${name}.${index}.json`)); index++) {
    const keys = JSON.parse(await readFile(join(dir, `${name}.${index}.json`), 'utf8')) as Record<string, number>;
    const raw = await readFile(join(dir, `${name}.${index}.f32`));
    messages.push({ keys, values: new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4) });
  }
  return messages;
}

function yyyymmdd(date: Date): number {
  return date.getUTCFullYear() * 10000 + (date.getUTCMonth() + 1) * 100 + date.getUTCDate();
}

function hhmm(date: Date): number {
  return date.getUTCHours() * 100 + date.getUTCMinutes();
}

/** Our decoded field under ecCodes's key names, so that the two can be compared key by key. */
export function asEccodesKeys(field: Grib2Field, values: Float32Array): Record<string, number> {
  const { identification: id, grid, product, representation, statistics } = { ...field, statistics: field.product.statistics };
  const { template: gridTemplate } = grid;
  const { scanning, ...gridParameters } = gridTemplate;
  const { firstSurface, secondSurface, level: _level, validTime, statistics: _s, ...productParameters } = product;
  const { template: _t, ...packing } = representation.packing;
  const numeric = (record: object) =>
    Object.fromEntries(Object.entries(record).filter(([, value]) => typeof value === 'number')) as Record<string, number>;
  const range = statistics?.timeRanges[0];
  return {
    offset: field.message.offset,
    discipline: field.discipline,
    editionNumber: 2,
    totalLength: field.message.length,
    ...numeric(id),
    dataDate: yyyymmdd(id.referenceTime),
    dataTime: hhmm(id.referenceTime),
    sourceOfGridDefinition: grid.sourceOfGridDefinition,
    numberOfDataPoints: grid.numberOfDataPoints,
    gridDefinitionTemplateNumber: grid.gridDefinitionTemplateNumber,
    // ecCodes's aliases: Ni/Nj and Nx/Ny on every grid, Dx/Dy for the increments of 3.0.
    Ni: grid.nx,
    Nj: grid.ny,
    Nx: grid.nx,
    Ny: grid.ny,
    ...(gridTemplate.template === 0 ? { Dx: gridTemplate.iDirectionIncrement, Dy: gridTemplate.jDirectionIncrement } : {}),
    ...numeric(gridParameters),
    ...Object.fromEntries(Object.entries(scanning).map(([key, flag]) => [key, flag ? 1 : 0])),
    ...numeric(productParameters),
    typeOfFirstFixedSurface: firstSurface.type,
    ...(firstSurface.scaleFactor === undefined ? {} : { scaleFactorOfFirstFixedSurface: firstSurface.scaleFactor }),
    ...(firstSurface.scaledValue === undefined ? {} : { scaledValueOfFirstFixedSurface: firstSurface.scaledValue }),
    typeOfSecondFixedSurface: secondSurface.type,
    ...(secondSurface.scaleFactor === undefined ? {} : { scaleFactorOfSecondFixedSurface: secondSurface.scaleFactor }),
    ...(secondSurface.scaledValue === undefined ? {} : { scaledValueOfSecondFixedSurface: secondSurface.scaledValue }),
    validityDate: yyyymmdd(validTime),
    validityTime: hhmm(validTime),
    ...(statistics ? numeric(statistics) : {}),
    ...(range ? numeric(range) : {}),
    numberOfValues: representation.numberOfValues,
    dataRepresentationTemplateNumber: representation.dataRepresentationTemplateNumber,
    ...numeric(packing),
    bitMapIndicator: field.bitMapIndicator,
    numberOfMissing: values.reduce((count, value) => count + (Number.isNaN(value) ? 1 : 0), 0),
  };
}
