import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

describe('npm run bench -- model', () => {
  it('gives the floor per image for the forward pass and for the training step, and GFLOP/s as the floor over ms per image', () => {
    const args = ['model', '--size', '256x256', '--device', 'wasm', '--forward-batches', '1', '--train-batches', '1', '--runs', '1', '--warmup', '0'];
    const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', 'main.js'), ...args], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(result.status, 0, result.stderr);
    const floor = /^floor: ([\d.]+) GFLOP per image forward, ([\d.]+) GFLOP per image per training step$/m.exec(result.stdout);
    assert.ok(floor, result.stdout);
    const row = result.stdout.split('\n').find((line) => line.startsWith('| wasm '));
    assert.ok(row, result.stdout);
    const [, batch, forwardMs, forwardRate, train] = row.split('|').slice(1, -1).map((cell) => cell.trim());
    assert.equal(batch, '1');
    assert.equal(train, 'cannot train');
    // Both figures are rounded: the rate from the printed ones agrees to within their rounding.
    const expected = Number(floor[1]) / (Number(forwardMs) / 1000);
    assert.ok(Math.abs(Number(forwardRate) - expected) <= 0.05 + expected * 0.03, `${forwardRate} GFLOP/s against ${floor[1]} GFLOP in ${forwardMs} ms`);
  });
});
