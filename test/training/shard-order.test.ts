import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-shard-order-'));
after(() => rmSync(work, { recursive: true, force: true }));
const child = join(repoRoot, 'dist', 'test', 'training', 'shard-order-child.js');

/** What the child prints when started under `locale`. */
function ordersUnder(locale: string): { heldOut: string[]; listed: string[] } {
  const folder = mkdtempSync(join(work, 'store-'));
  return JSON.parse(execFileSync(process.execPath, [child, folder], { env: { ...process.env, LANG: locale, LC_ALL: locale }, encoding: 'utf8' })) as { heldOut: string[]; listed: string[] };
}

describe('orders of shards whatever the machine\'s locale', () => {
  it('holds out the same shard and lists shards in the same order under LANG=da_DK.UTF-8 (where "aa" sorts after "z") as under C.UTF-8: by the ids\' characters', () => {
    const expected = { heldOut: ['part-20190920T0000Z-20190920T0100Z-aa000000'], listed: ['part-20190920T0000Z-20190920T0100Z-aa000000', 'part-20190920T0000Z-20190920T0100Z-b0000000'] };
    assert.deepEqual(ordersUnder('C.UTF-8'), expected);
    assert.deepEqual(ordersUnder('da_DK.UTF-8'), expected);
  });
});
