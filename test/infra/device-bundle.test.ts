import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUNDLE_FILE, bundleDeviceApp, DEVICE_LIMIT_BYTES, type DeviceApp } from '../../infra/device/bundle.js';
import { buildInfo } from '../../runtime/build-info.js';
import { webgpuSkip } from '../model/fixtures.js';
import { repoRoot } from '../paths.js';

// Outside the repository, so that no node_modules up the tree can stand in for what the bundle lacks.
const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-device-'));
const folder = join(work, 'app');
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the bundle with plain node from its own folder. */
function bench(args: string[]) {
  return spawnSync(process.execPath, [BUNDLE_FILE, ...args], { cwd: folder, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_PATH: '' } });
}

const SMALL_RUN = ['model', '--size', '256x256', '--forward-batches', '1', '--train-batches', '1', '--runs', '1', '--warmup', '0'];

/**
 * The cells of the model table's row for `backend` ("| cpu | 1 | 481.3 | 0.5 | 14847.8 | ..."), after
 * the backend's name; the one place that knows the table's layout, kept loose on purpose.
 */
function rowCells(table: string, backend: string): string[] {
  const row = table.split('\n').find((line) => line.startsWith(`| ${backend} `));
  assert.ok(row, `no row for ${backend} in:\n${table}`);
  return row.split('|').slice(2, -1).map((cell) => cell.trim());
}

const numbers = (cells: string[]) => cells.filter((cell) => /^\d[\d,]*(\.\d+)?$/.test(cell)).map((cell) => Number(cell.replaceAll(',', '')));

describe('the device bundle (npm run bundle:device)', () => {
  let app: DeviceApp;
  before(async () => {
    app = await bundleDeviceApp(folder);
  });

  it('holds the bundle, the linux-x64 dawn.node, the wasm binaries, the schemas and the build it was bundled from only, under the device limit', () => {
    const paths = app.files.map((file) => file.path).sort();
    assert.deepEqual(paths.filter((path) => !path.startsWith('schemas/')), [
      BUNDLE_FILE,
      'build-info.json',
      'node_modules/webgpu/dist/linux-x64/dawn.node',
      'node_modules/webgpu/index.js',
      'node_modules/webgpu/package.json',
      'package.json',
      'tfjs-backend-wasm-simd.wasm',
      'tfjs-backend-wasm.wasm',
      'zstd.wasm',
    ]);
    assert.ok(paths.includes('schemas/embeddings.value.avsc'));
    assert.ok(app.bytes < DEVICE_LIMIT_BYTES);
    assert.deepEqual(buildInfo(folder), buildInfo(repoRoot), "the checkout's version and commit");
  });

  it('runs the model benchmark on cpu (forward and training) and wasm (forward) without the project\'s node_modules', () => {
    const result = bench([...SMALL_RUN, '--device', 'cpu,wasm,tensorflow']);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(numbers(rowCells(result.stdout, 'cpu')).length >= 3, 'cpu: batch, forward and train step');
    assert.ok(numbers(rowCells(result.stdout, 'wasm')).length >= 2, 'wasm: batch and forward');
    assert.ok(rowCells(result.stdout, 'tensorflow').includes('unavailable'), 'the optional libtensorflow bindings are not carried');
  });

  it('runs the model benchmark on webgpu through the carried dawn.node', { skip: webgpuSkip }, () => {
    const result = bench([...SMALL_RUN, '--device', 'webgpu', '--kernels', 'ours']);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(numbers(rowCells(result.stdout, 'webgpu, our kernels')).length >= 3, 'webgpu: batch, forward and train step');
  });

  it('runs the consumer benchmark on the file bus, with the Avro schemas it carries', () => {
    const result = bench(['consumer', '--analyses', '1', '--latency-runs', '1', '--no-kafka', '--device', 'wasm']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /\| file bus \|/);
  });

  it("answers a bad option with the model benchmark's usage", () => {
    const result = bench(['model', '--no-such-option']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /usage: .* model .*--device/);
  });

  it('ends a benchmark that needs what it does not carry with a line that says so', () => {
    // bus needs a Kafka broker's jars. (shards, which needs the shared HRRR file, names that file and
    // HRRR_EMBED_SHARED_DATA as any benchmark does, and runs where the variable points at it.)
    const result = bench(['bus', '--records', '1', '--single', '1']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /this is the device bundle/);
  });

  it('ends the backfill benchmark, whose S3 server (infra/s3-server.sh) it does not carry, with that line too', () => {
    const result = bench(['backfill', '--hours', '1']);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /s3-server\.sh/);
    assert.match(result.stderr, /this is the device bundle/);
  });

  it('refuses to replace a folder that holds something other than a bundle', async () => {
    const other = join(work, 'not-a-bundle');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'not a bundle');
    await assert.rejects(bundleDeviceApp(other), /holds no bench\.mjs/);
    assert.ok(existsSync(join(other, 'keep.txt')));
  });
});
