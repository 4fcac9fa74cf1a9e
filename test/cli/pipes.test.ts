import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { embeddingKey, sampleEmbedding } from '../bus/sample-records.js';
import { repoRoot } from '../paths.js';

const cli = join(repoRoot, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-pipes-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('a command piped into a reader that stops early', () => {
  it('tail ends quietly with 0 once its reader (| head -1) has closed the pipe, with no stack trace', async () => {
    const data = join(work, 'tail');
    const bus = new FileBus(data);
    const codec = await AvroCodec.create();
    await bus.createTopic('embeddings');
    const record = async () => (await codec.encode('embeddings', embeddingKey, sampleEmbedding())).record;
    await bus.produce('embeddings', [await record()]);

    const tail = spawn(process.execPath, [cli, 'tail', 'embeddings', '--data', data, '--from-beginning']);
    let stderr = '';
    tail.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => tail.once('exit', resolve));
    let done = false;
    void exited.then(() => (done = true));
    // As `head -1` does: read the first line, then close the pipe.
    await new Promise((resolve) => tail.stdout.once('data', resolve));
    tail.stdout.destroy();
    // The tail learns the pipe is closed when it next writes: give it records until it has gone.
    while (!done) {
      await bus.produce('embeddings', [await record()]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await bus.close();
    assert.equal(await exited, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled|\n\s+at /);
  });
});
