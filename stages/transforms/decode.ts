import { decodeValues, inventoryLine, readFields } from '../../grib2/index.js';
import type { Stage } from '../stage.js';
import type { DecodedField, GribBytes } from '../types.js';

export interface DecodeConfig {
  /** Decode only the fields whose .idx-style line ("1:0:d=2019092005:REFC:entire atmosphere:anl:") matches. */
  match?: RegExp;
}

/** GRIB2 bytes -> one DecodedField per (matching) field. Bad bytes throw a Grib2Error. */
export function createDecodeStage({ match }: DecodeConfig = {}): Stage<GribBytes, DecodedField> {
  return {
    name: 'decode',
    async *process({ source, bytes }, { log }) {
      for (const field of readFields(bytes)) {
        const line = inventoryLine(field);
        if (match && !match.test(line)) continue;
        const values = await decodeValues(field);
        log.debug({ key: source.key, field: line, points: values.length }, 'decoded');
        yield { source, field, values };
      }
    },
  };
}
