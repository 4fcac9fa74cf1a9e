import { endianness } from 'node:os';
import { parseArgs } from 'node:util';
import { inventoryLine, type Grib2Field } from '../grib2/index.js';
import { silentLogger } from '../stages/stage.js';
import { createDecodeStage } from '../stages/transforms/decode.js';
import { readInputFile, writeOutputFile } from './files.js';
import { UsageError } from './usage.js';

export const decodeUsage = `usage: hrrr-embed decode FILE [--match REGEX] [--raw OUT]

Decodes every GRIB2 message in FILE (or those whose .idx-style line, e.g.
"1:0:d=2019092005:REFC:entire atmosphere:anl:", matches REGEX) and prints one JSON line per field:
parameter, level, reference and valid time, grid template and its parameters, data
representation, number of points, min, max, mean and number missing.

  --match REGEX  decode only the matching fields (the same regex selects .idx lines)
  --raw OUT      write the first matching field's values to OUT as little-endian
                 float32, NaN where missing, in ecCodes's order (as stored)`;

export async function decodeCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values: options, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { match: { type: 'string' }, raw: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError('decode takes exactly one FILE', decodeUsage);
  let match: RegExp | undefined;
  try {
    match = options.match === undefined ? undefined : new RegExp(options.match);
  } catch (error) {
    throw new UsageError(`--match: ${(error as Error).message}`, decodeUsage);
  }
  const file = positionals[0]!;
  const bytes = await readInputFile(file);
  const stage = createDecodeStage(match ? { match } : {});
  const context = { log: silentLogger, signal: new AbortController().signal };
  let decoded = 0;
  for await (const { field, values } of stage.process({ source: { store: 'file://', key: file }, bytes }, context)) {
    out(JSON.stringify({ inventory: inventoryLine(field), ...summarize(field, values) }));
    if (decoded === 0 && options.raw !== undefined) await writeRaw(options.raw, values);
    decoded++;
  }
  if (decoded === 0) throw new Error(match ? `no field in ${file} matches ${match}` : `${file} holds no field`);
}

async function writeRaw(path: string, values: Float32Array): Promise<void> {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (endianness() === 'LE') return writeOutputFile(path, bytes);
  const view = new DataView(new ArrayBuffer(values.byteLength));
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return writeOutputFile(path, new Uint8Array(view.buffer));
}

function summarize(field: Grib2Field, values: Float32Array) {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let missing = 0;
  for (const value of values) {
    if (Number.isNaN(value)) {
      missing++;
      continue;
    }
    if (value < min) min = value;
    if (value > max) max = value;
    sum += value;
  }
  const present = values.length - missing;
  const { product, grid, representation } = field;
  const { template: packingTemplate, ...packing } = representation.packing;
  return {
    message: field.message.index + 1,
    field: field.fieldIndex + 1,
    offset: field.message.offset,
    length: field.message.length,
    parameter: field.parameter,
    level: product.level,
    firstSurface: product.firstSurface,
    forecast: product.forecast,
    referenceTime: field.identification.referenceTime.toISOString(),
    validTime: product.validTime.toISOString(),
    productDefinitionTemplate: product.productDefinitionTemplateNumber,
    gridDefinitionTemplate: grid.gridDefinitionTemplateNumber,
    grid: grid.template,
    nx: grid.nx,
    ny: grid.ny,
    dataRepresentationTemplate: packingTemplate,
    packing,
    bitMapIndicator: field.bitMapIndicator,
    numberOfPoints: values.length,
    min: present ? min : null,
    max: present ? max : null,
    mean: present ? sum / present : null,
    numberMissing: missing,
  };
}
