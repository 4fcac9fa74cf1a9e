/**
 * Where shards live in a store: PREFIX/FIELD/YYYY/MM/part-FROM-TO-RANDOM.arrow and its
 * .manifest.json beside it, the month that of the shard's first valid time. A shard never spans
 * two UTC days (the writer rolls over), so never two months either: the months between two times
 * hold every shard of them.
 * Rows appended but not yet in a written shard wait, one object each, under PREFIX/.pending/.
 */
import { createHash, randomBytes } from 'node:crypto';

export const DEFAULT_SHARD_PREFIX = 'shards/';

export const MANIFEST_SUFFIX = '.manifest.json';

/** "REFC:entire atmosphere:anl" -> "REFC_entire_atmosphere_anl": a folder name with no spaces or colons. */
export function fieldFolder(prefix: string, field: string): string {
  return `${prefix}${field.replace(/[^A-Za-z0-9.-]+/g, '_')}/`;
}

/** The folder of the shards whose first row is valid in `time`'s month (UTC). */
export function monthFolder(prefix: string, field: string, time: Date): string {
  return `${fieldFolder(prefix, field)}${time.toISOString().slice(0, 4)}/${time.toISOString().slice(5, 7)}/`;
}

/** "2019-09-20": the UTC day of a time, which a shard's rows share. */
export const utcDay = (time: Date) => time.toISOString().slice(0, 10);

/** A new shard's id and keys: its time range in the name (so keys sort by time), then 8 random hex digits. */
export function newShardKeys(prefix: string, field: string, from: Date, to: Date): { id: string; dataKey: string; manifestKey: string } {
  const id = `part-${compactTime(from)}-${compactTime(to)}-${randomBytes(4).toString('hex')}`;
  const folder = monthFolder(prefix, field, from);
  return { id, dataKey: `${folder}${id}.arrow`, manifestKey: `${folder}${id}${MANIFEST_SUFFIX}` };
}

/** Text in the order of its UTF-16 code units, as keys are listed: the same on every machine, where localeCompare follows LANG. */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The manifest beside a shard's Arrow object. */
export const manifestKeyOf = (dataKey: string) => dataKey.replace(/\.arrow$/, MANIFEST_SUFFIX);

/** The Arrow object beside a shard's manifest. */
export const dataKeyOf = (manifestKey: string) => `${manifestKey.slice(0, -MANIFEST_SUFFIX.length)}.arrow`;

export const pendingFolder = (prefix: string) => `${prefix}.pending/`;

/**
 * PREFIX/.pending/FIELD/VALIDTIME-SOURCEHASH.arrow: the same key for the same field from the same
 * source, so a row appended again after a crash (a redelivered analysis) replaces its pending
 * object instead of adding a second.
 */
export function pendingRowKey(prefix: string, field: string, validTime: Date, source: string): string {
  const sourceHash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  return `${fieldFolder(pendingFolder(prefix), field)}${compactTime(validTime)}-${sourceHash}.arrow`;
}

/** 2019-09-20T05:15:00.000Z -> 20190920T0515Z. */
function compactTime(time: Date): string {
  return time.toISOString().replace(/[-:]/g, '').slice(0, 13) + 'Z';
}
