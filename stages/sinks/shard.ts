import type { ShardWriter } from '../../shards/writer.js';
import type { Stage } from '../stage.js';
import type { NormalizedField, ObjectRef } from '../types.js';
import { fieldName } from './publish.js';

/**
 * NormalizedField -> the same field, once it is buffered in its shard (see shards/writer.ts): a
 * branch beside the encoder. The caller closes the writer on shutdown, which writes the open shards.
 */
export function createShardStage(writer: ShardWriter): Stage<NormalizedField, NormalizedField> {
  return {
    name: 'shard',
    async *process(normalized) {
      const { field, height, width, values } = normalized;
      await writer.append({ validTime: field.product.validTime, field: fieldName(normalized), source: shardSource(normalized.source), height, width, values });
      yield normalized;
    },
  };
}

/** "s3://noaa-hrrr-bdp-pds/hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2#0-123456": where a row came from. */
export function shardSource({ store, key, range }: ObjectRef): string {
  return `${store.replace(/\/$/, '')}/${key}${range ? `#${range.start}-${range.end}` : ''}`;
}
