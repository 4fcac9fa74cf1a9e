import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { repoRoot, sharedData } from '../paths.js';

const cli = join(repoRoot, 'dist', 'cli', 'main.js');
const file = join(sharedData, 'hrrr', 'hrrr.20221014.t01z.wrfsubhf.REFC-VBDSF.grib2');
const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-cli-model-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

describe('hrrr-embed model summary', () => {
  it('prints the layers and the parameter count of the seed configuration as JSON, on one line as every command prints its data', () => {
    const result = run('model', 'summary');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.split('\n').length, 2, 'one line, then its newline');
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.params, 969_123);
    assert.equal(summary.layers.length, 24);
    assert.deepEqual(summary.layers[11], { name: 'refc_embedding', type: 'Dense', outputShape: [50], params: 179_250 });
  });

  it('counts the arithmetic of a forward pass and a training step per image: 2 operations a multiply-accumulate of every Conv2D and Dense layer', () => {
    const { flopsPerImage } = JSON.parse(run('model', 'summary').stdout);
    // Output rows x columns x kernel x input channels x filters, layer by layer (Dense: inputs x units).
    const firstLayer = 1024 * 1792 * 16 * 1 * 16;
    const encoder = firstLayer + 256 * 448 * 16 * 16 * 32 + 64 * 112 * 16 * 32 * 64 + 16 * 28 * 16 * 64 * 128 + 3584 * 50;
    const decoder = 50 * 3584 + 4 * 7 * 16 * 128 * 128 + 16 * 28 * 16 * 128 * 64 + 64 * 112 * 16 * 64 * 32 + 256 * 448 * 16 * 32 * 16 + 1024 * 1792 * 9 * 16 * 1;
    const forward = 2 * (encoder + decoder);
    // Weight and input gradients cost a forward pass each, but nothing needs the input gradient of the first layer.
    assert.deepEqual(flopsPerImage, { forward, trainingStep: 3 * forward - 2 * firstLayer });
    assert.equal(Math.round(forward / 1e8), 64);
  });

  it('takes hyperparameters from --config and names a bad key', () => {
    const good = join(work, 'small.json');
    writeFileSync(good, JSON.stringify({ model: { nlayers: 2, numdense: 8, cropping: [[17, 18], [4, 3]] } }));
    const summary = JSON.parse(run('model', 'summary', '--config', good).stdout);
    assert.deepEqual([summary.config.nlayers, summary.config.numdense, summary.layers.at(-1).outputShape], [2, 8, [1059, 1799, 1]]);
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ model: { numfilter: 4 } }));
    const result = run('model', 'summary', '--config', bad);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^hrrr-embed model: .*bad\.json: model\.numfilter: unknown setting/);
  });
});

describe('hrrr-embed embed', () => {
  it('without --model, embeds every REFC field with an untrained model and says so', () => {
    const result = run('embed', file, '--device', 'wasm');
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines.length, 1);
    assert.deepEqual(Object.keys(lines[0]), ['inventory', 'validTime', 'embedding', 'reconstructionError', 'modelVersion', 'backend']);
    assert.deepEqual([lines[0].validTime, lines[0].embedding.length, lines[0].modelVersion, lines[0].backend], ['2022-10-14T01:15:00.000Z', 50, 'untrained', 'wasm']);
    assert.match(result.stderr, /"backend":"wasm","adapter":"WebAssembly on [^"]+","purpose":"inference","reason":"asked for with --device wasm"/);
    assert.match(result.stderr, /no --model: using a freshly initialised model/);
  });

  it("with --model, uses the store's promoted version and names it", async () => {
    await selectBackend('cpu', 'inference', silentLogger);
    const store = new FolderStore(join(work, 'models'));
    const { modelId } = await saveVersion(store, createAutoencoder());
    await promoteVersion(store, modelId);
    const [untrained, saved] = [run('embed', file, '--device', 'wasm'), run('embed', file, '--model', join(work, 'models'), '--device', 'wasm')];
    assert.equal(saved.status, 0, saved.stderr);
    const [a, b] = [JSON.parse(untrained.stdout), JSON.parse(saved.stdout)];
    assert.equal(b.modelVersion, modelId);
    assert.deepEqual(b.embedding, a.embedding, 'the saved model is the seeded one, so its embedding is the same');
  });

  it('refuses an unknown device with exit code 2', () => {
    const result = run('embed', file, '--device', 'gpu');
    assert.equal(result.status, 2);
    assert.match(result.stderr, /device: unknown device "gpu" \(known: auto, tensorflow, webgpu, wasm, cpu\)/);
  });
});
