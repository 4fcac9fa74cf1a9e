import type { Grib2Field } from './message.js';

/**
 * The line wgrib2 would write for this field in an .idx,
 * `1:0:d=2022101401:REFC:entire atmosphere:anl:`, so that one regular expression selects the
 * same fields in an .idx and in a decoded file.
 */
export function inventoryLine(field: Grib2Field): string {
  const { message, fieldIndex, identification, parameter, product } = field;
  const number = fieldIndex === 0 && message.fieldCount === 1 ? `${message.index + 1}` : `${message.index + 1}.${fieldIndex + 1}`;
  const date = identification.referenceTime.toISOString().slice(0, 13).replace(/[-T]/g, '');
  return `${number}:${message.offset}:d=${date}:${parameter.shortName}:${product.level}:${product.forecast}:`;
}
