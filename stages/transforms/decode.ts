import { decodeValues, eachMessage, inventoryLine } from '../../grib2/index.js';
import type { Stage } from '../stage.js';
import type { DecodedField, GribBytes } from '../types.js';

export interface DecodeConfig {
  /** Decode only the fields whose .idx-style line ("1:0:d=2019092005:REFC:entire atmosphere:anl:") matches. */
  match?: RegExp;
  /**
   * The grid every field must be on (the model's input). A field on another grid is refused before
   * its values are unpacked: a message of a few hundred bytes may claim 2^28 points packed in 0 bits.
   */
  grid?: { nx: number; ny: number };
}

/**
 * GRIB2 bytes -> one DecodedField per (matching) field. Bad bytes throw a Grib2Error, except that
 * with `match`, a message that cannot be read (an unsupported template, say) is skipped with a
 * warning when other messages hold fields that match: it may not have been wanted, and it does
 * not cost the ones that were.
 */
export function createDecodeStage({ match, grid }: DecodeConfig = {}): Stage<GribBytes, DecodedField> {
  return {
    name: 'decode',
    async *process({ source, bytes }, { log }) {
      const unreadable: { message: number; error: unknown }[] = [];
      let matched = 0;
      for (const message of eachMessage(bytes)) {
        if ('error' in message) {
          if (!match) throw message.error;
          unreadable.push({ message: message.index + 1, error: message.error });
          continue;
        }
        for (const field of message.fields) {
          const line = inventoryLine(field);
          if (match && !match.test(line)) continue;
          matched++;
          if (grid && (field.grid.nx !== grid.nx || field.grid.ny !== grid.ny)) {
            throw new Error(`${line} is on a grid of ${field.grid.nx} x ${field.grid.ny} points, the model takes ${grid.nx} x ${grid.ny}`);
          }
          const values = await decodeValues(field);
          log.debug({ key: source.key, field: line, points: values.length }, 'decoded');
          yield { source, field, values };
        }
      }
      if (unreadable.length > 0 && matched === 0) throw unreadable[0]!.error;
      for (const { message, error } of unreadable) {
        log.warn({ key: source.key, message, err: (error as Error).message }, 'message skipped: it cannot be read, and other messages hold the fields that match');
      }
    },
  };
}
