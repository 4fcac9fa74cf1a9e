import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { runCommandProcess } from '../support/cli-process.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-retrain-no-shards-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('hrrr-embed retrain with no shards in the range', () => {
  it('fails naming the shard store it looked in, so that a wrong --shards shows', async () => {
    const shards = join(work, 'shards');
    mkdirSync(shards);
    const result = await runCommandProcess([
      'retrain', '--models', join(work, 'models'), '--shards', shards, '--data', join(work, 'bus'),
      '--fresh', '--from', '2030-01-01T00Z', '--to', '2030-01-02T00Z', '--device', 'cpu', '--quiet',
    ]);
    assert.equal(result.status, 1, result.stderr);
    const message = result.stderr.split('\n').find((line) => line.startsWith('hrrr-embed retrain: '));
    assert.ok(message, result.stderr);
    assert.match(message, /no shards of REFC:entire atmosphere:anl from 2030-01-01T00:00:00\.000Z to 2030-01-02T00:00:00\.000Z in /);
    assert.ok(message.includes(pathToFileURL(shards).href), message);
  });

  it('with --shards naming two stores, names each with the shards prefix after it, not the prefix after the last alone', async () => {
    const [first, second] = [join(work, 'first'), join(work, 'second')];
    for (const folder of [first, second]) mkdirSync(folder);
    const result = await runCommandProcess([
      'retrain', '--models', join(work, 'models'), '--shards', `${first},${second}`, '--data', join(work, 'bus'),
      '--fresh', '--from', '2030-01-01T00Z', '--to', '2030-01-02T00Z', '--device', 'cpu', '--quiet',
    ]);
    assert.equal(result.status, 1, result.stderr);
    const message = result.stderr.split('\n').find((line) => line.startsWith('hrrr-embed retrain: '));
    assert.ok(message, result.stderr);
    assert.ok(message.endsWith(` in ${pathToFileURL(first).href}/shards/,${pathToFileURL(second).href}/shards/`), message);
  });
});
