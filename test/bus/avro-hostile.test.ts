import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

const dist = (path: string) => pathToFileURL(join(repoRoot, 'dist', path)).href;

/**
 * Decodes, in a child process of 128 MB of heap, an embedding record whose embedding array's
 * block claims `count` floats and is followed by nothing; prints what decode threw.
 */
function decodeClaimingFloats(count: number): { status: number | null; stdout: string; stderr: string } {
  const script = `
    import { AvroCodec } from ${JSON.stringify(dist('bus/avro/codec.js'))};
    import { sampleEmbedding } from ${JSON.stringify(dist('test/bus/sample-records.js'))};
    import avro from 'avsc';
    const codec = await AvroCodec.create();
    const { topic, record } = await codec.encode('embeddings', { field: 'REFC', validTime: new Date(0) }, { ...sampleEmbedding(), embedding: [1.5, 1.5, 1.5] });
    const value = Buffer.from(record.value);
    const block = Buffer.from([6, 0, 0, 0xc0, 0x3f, 0, 0, 0xc0, 0x3f, 0, 0, 0xc0, 0x3f, 0]);
    const at = value.indexOf(block);
    const claiming = Buffer.concat([value.subarray(0, at), avro.Type.forSchema('long').toBuffer(${count})]);
    try {
      await codec.decode({ topic, key: null, value: claiming, headers: record.headers });
      console.log('decoded');
    } catch (error) {
      console.log(error.name + ': ' + error.message);
    }`;
  const child = spawnSync(process.execPath, ['--max-old-space-size=128', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr.slice(-2000) };
}

describe('an Avro record whose array block claims more items than its bytes could hold', () => {
  it('is an UnreadableRecordError naming the block, not a heap exhausted: a few bytes claiming 2^32 - 2 floats', () => {
    const { status, stdout, stderr } = decodeClaimingFloats(2 ** 32 - 2);
    assert.equal(status, 0, `the decoding process died: ${stderr}`);
    assert.match(stdout, /^UnreadableRecordError: embeddings value: not Avro of its writer schema \(.*array block of 4294967294 items/);
  });
});
