import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decode as decodePng } from 'fast-png';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { REDUCED_MODEL_CONFIG } from '../../model/config.js';
import { runConsumer } from '../../pipelines/consume.js';
import { formatHour, HOUR_MS, parseHour } from '../../stages/sources/hrrr-archive.js';
import { sampleAnalysis } from '../../stages/sources/sample-analyses.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { hour, putAnalysis } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';

const HOURS = [0, 1, 2, 3, 4, 5, 6, 7];
let work: string;
let data: string;

/**
 * The demo's analyses (the real HRRR grid, 24 storm cells drifting and growing) embedded by the
 * real consumer with the reduced configuration's model, untrained, as `npm start` runs before it
 * has retrained.
 */
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-similar-sample-'));
  data = join(work, 'data');
  await selectBackend('wasm', 'inference', silentLogger);
  const source = new FolderStore(join(work, 'source'));
  for (const n of HOURS) await putAnalysis(source, sampleAnalysis(hour(n), n));
  const bus = new FileBus(data);
  const model = { autoencoder: createAutoencoder({ config: REDUCED_MODEL_CONFIG }), id: 'untrained', alertThreshold: null, backend: 'wasm' };
  try {
    const config = { source, state: new FolderStore(join(work, 'state')), bus, codec: await AvroCodec.create(), model, match: /:REFC:/, from: hour(0), to: hour(HOURS.at(-1)!), once: true };
    assert.equal((await runConsumer(config, undefined, { log: silentLogger, signal: new AbortController().signal })).done, HOURS.length);
  } finally {
    await bus.close();
  }
});
after(() => rm(work, { recursive: true, force: true }));

describe('similar on the sample analyses of the real grid, reduced model', () => {
  it('ranks the two neighbouring hours of every hour first (the one neighbour first at either end)', async () => {
    for (const n of HOURS) {
      const { status, lines, stderr } = await runCommandProcess(['similar', '--time', formatHour(hour(n)), '-k', '2', '--data', data]);
      assert.equal(status, 0, stderr);
      const apart = (lines as Array<{ validTime: string }>).map((line) => Math.abs(parseHour(line.validTime).getTime() - hour(n).getTime()) / HOUR_MS);
      const order = (lines as Array<{ validTime: string }>).map((line) => line.validTime).join(', ');
      if (n === HOURS[0] || n === HOURS.at(-1)) assert.deepEqual(apart, [1, 2], `hour ${n}: ${order}`);
      else assert.deepEqual(apart, [1, 1], `hour ${n}: ${order}`);
    }
  });

  it('reconstructs an embedding of the reduced untrained model (found by its record) as a full-grid picture', async () => {
    const png = join(work, 'hour3.png');
    const { status, stderr } = await runCommandProcess(['reconstruct', '--time', formatHour(hour(3)), '--png', png, '--shrink', '4', '--data', data, '--device', 'wasm']);
    assert.equal(status, 0, stderr);
    const picture = decodePng(await readFile(png));
    assert.deepEqual([picture.width, picture.height], [Math.ceil(1799 / 4), Math.ceil(1059 / 4)]);
  });
});
