import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { putAnalysis, smallAnalysisOfHour } from './analyses.js';

/**
 * A folder for `run` processes: `source/` with small analyses of hours 0 to 4, hour 3's corrupt
 * (a dead letter), and `models/` with small-1 promoted, of the alert threshold given.
 */
export async function runWork(name: string, alertThreshold: number): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), `hrrr-embed-${name}-`));
  const source = new FolderStore(join(work, 'source'));
  for (const n of [0, 1, 2, 4]) await putAnalysis(source, smallAnalysisOfHour(n));
  const corrupt = smallAnalysisOfHour(3);
  await putAnalysis(source, { ...corrupt, grib2: Uint8Array.from(corrupt.grib2, (byte, i) => (i < 4 ? 0x58 : byte)) });
  await selectBackend('cpu', 'inference', silentLogger);
  const models = new FolderStore(join(work, 'models'));
  const { modelId } = await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1', alertThreshold });
  await promoteVersion(models, modelId);
  return work;
}
