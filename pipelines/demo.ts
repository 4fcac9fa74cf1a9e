import { HOUR_MS } from '../stages/sources/hrrr-archive.js';
import { sampleAnalysis } from '../stages/sources/sample-analyses.js';
import type { StageContext } from '../stages/stage.js';
import type { DecodedField } from '../stages/types.js';
import { FolderStore } from '../store/folder.js';
import { runIngest } from './ingest.js';

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
const PROGRESS_KEY = 'progress/demo.json';

/**
 * The embedded default of the main job, offline: writes sample analyses into a folder in the
 * bucket's layout, then runs the ingest pipeline over it (discover, fetch REFC by its .idx
 * range, decode). (Normalize, encode and publish join here as their issues land.)
 */
export async function runDemo({ dir, start, hours }: DemoOptions, onAnalysis: (analysis: DemoAnalysis) => void, context: StageContext): Promise<void> {
  const store = new FolderStore(dir);
  for (let hour = 0; hour < hours; hour++) {
    const sample = sampleAnalysis(new Date(start.getTime() + hour * HOUR_MS), hour);
    await store.put(`${sample.key}.idx`, new TextEncoder().encode(sample.idx));
    await store.put(sample.key, sample.grib2);
  }
  context.log.info({ store: store.url, analyses: hours }, 'sample analyses written');
  await store.delete(PROGRESS_KEY); // each demo starts afresh
  await runIngest(
    { source: store, state: store, progressKey: PROGRESS_KEY, match: REFC, from: start, to: new Date(start.getTime() + (hours - 1) * HOUR_MS), concurrency: 1 },
    {
      async deliver({ analysis, messages, fields }) {
        const bytesRead = messages.reduce((sum, piece) => sum + piece.bytes.length, 0);
        for (const decoded of fields) onAnalysis({ key: analysis.key, bytesRead, objectSize: analysis.size, decoded });
      },
    },
    context,
  );
}
