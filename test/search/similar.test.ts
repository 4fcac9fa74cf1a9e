import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decode as decodePng } from 'fast-png';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { runConsumer } from '../../pipelines/consume.js';
import { formatHour, HOUR_MS, parseHour } from '../../stages/sources/hrrr-archive.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { hour, putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { repoRoot } from '../paths.js';

const HOURS = [0, 1, 2, 3, 4, 5, 6, 7, 8];
let work: string;
let data: string;

/** The real consumer (the small untrained model) embeds the small analyses of HOURS, a storm cell drifting east, onto a file bus. */
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-similar-'));
  data = join(work, 'data');
  await selectBackend('cpu', 'inference', silentLogger);
  const source = new FolderStore(join(work, 'source'));
  for (const n of HOURS) await putAnalysis(source, smallAnalysisOfHour(n));
  const bus = new FileBus(data);
  const model = { autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'untrained', alertThreshold: null, backend: 'cpu' };
  try {
    const config = { source, state: new FolderStore(join(work, 'state')), bus, codec: await AvroCodec.create(), model, match: /:REFC:/, from: hour(0), to: hour(HOURS.at(-1)!), once: true };
    const summary = await runConsumer(config, undefined, { log: silentLogger, signal: new AbortController().signal });
    assert.equal(summary.done, HOURS.length);
  } finally {
    await bus.close();
  }
});
after(() => rm(work, { recursive: true, force: true }));

describe('hrrr-embed similar', () => {
  it('ranks a neighbouring hour of a drifting storm cell first for every hour, and both neighbours first away from the western edge, from the embeddings the consumer published', async () => {
    for (const n of HOURS) {
      const { status, lines, stderr } = await runCommandProcess(['similar', '--time', formatHour(hour(n)), '-k', '4', '--data', data]);
      assert.equal(status, 0, stderr);
      const ranked = lines as Array<{ rank: number; validTime: string; distance: number; similarity: number }>;
      assert.deepEqual(ranked.map((line) => line.rank), [1, 2, 3, 4]);
      assert.ok(ranked.every((line, i) => i === 0 || line.distance >= ranked[i - 1]!.distance), 'nearest first');
      const apart = ranked.map((line) => Math.abs(parseHour(line.validTime).getTime() - hour(n).getTime()) / HOUR_MS);
      const order = ranked.map((line) => line.validTime).join(', ');
      assert.equal(apart[0], 1, `hour ${n}: an hour beside it comes first, got ${order}`);
      // Near the western crop edge (hours 0 to 2) the untrained model's pooling blocks blur the cell's
      // position: there, only the first neighbour is certain.
      if (n >= 3 && n <= 6) assert.deepEqual(apart.slice(0, 2), [1, 1], `hour ${n}: both hours beside it come first, got ${order}`);
    }
  });

  it('says which hour and field it could not find, and refuses a bad -k or --time with exit code 2', async () => {
    const missing = await runCommandProcess(['similar', '--time', '2020-01-01T00Z', '--data', data]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no embedding of REFC:entire atmosphere:anl at 2020-01-01T00Z among 9/);
    const badK = await runCommandProcess(['similar', '--time', formatHour(hour(0)), '-k', '0', '--data', data]);
    assert.equal(badK.status, 2);
    assert.match(badK.stderr, /-k: 0 is not a whole number/);
    const badTime = await runCommandProcess(["similar", "--time", "yesterday", "--data", data]);
    assert.equal(badTime.status, 2);
    const help = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'similar', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /usage: hrrr-embed similar --time T/);
  });
});

describe('hrrr-embed reconstruct', () => {
  it("decodes a published embedding with the record's model into a PNG of the decoder's full output size", async () => {
    const settings = join(work, 'small.json');
    await writeFile(settings, JSON.stringify({ model: SMALL_CONFIG }));
    const png = join(work, 'hour4.png');
    const { status, lines, stderr } = await runCommandProcess(['reconstruct', '--time', formatHour(hour(4)), '--png', png, '--data', data, '--config', settings, '--device', 'cpu']);
    assert.equal(status, 0, stderr);
    assert.deepEqual(lines, [{ validTime: hour(4).toISOString(), field: 'REFC:entire atmosphere:anl', modelId: 'untrained', modelVersion: 'untrained', png, height: 38, width: 70 }]);
    const picture = decodePng(await readFile(png));
    assert.deepEqual([picture.width, picture.height], [70, 38]);
  });

  it('asks for the settings of an untrained model that is no preset, and refuses a model whose embedding size differs from the record', async () => {
    const noPreset = await runCommandProcess(['reconstruct', '--time', formatHour(hour(4)), '--png', join(work, 'x.png'), '--data', data, '--device', 'cpu']);
    assert.equal(noPreset.status, 1);
    assert.match(noPreset.stderr, /untrained model \(32 x 64 downsampled 1, embedding of 16\) is none of the presets \(seed, reduced, demo\): give its settings with --config FILE/);
    const settings = join(work, 'other.json');
    await writeFile(settings, JSON.stringify({ model: { ...SMALL_CONFIG, numdense: 8 } }));
    const wrong = await runCommandProcess(['reconstruct', '--time', formatHour(hour(4)), '--png', join(work, 'x.png'), '--data', data, '--config', settings, '--device', 'cpu']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /the embedding has 16 numbers, model untrained takes 8/);
  });
});
