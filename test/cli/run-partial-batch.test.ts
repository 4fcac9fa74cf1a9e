import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import type { Embedding } from '../../bus/records.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { take } from '../bus/helpers.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-partial-batch-'));
  await selectBackend('cpu', 'inference', silentLogger);
  await putAnalysis(new FolderStore(join(work, 'source')), smallAnalysisOfHour(0));
  const models = new FolderStore(join(work, 'models'));
  await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1' });
  await promoteVersion(models, 'small-1');
});
after(() => rm(work, { recursive: true, force: true }));

describe('hrrr-embed run, a partial encoder batch at shutdown', () => {
  it('one SIGTERM while a field waits for its batch to fill: the field is encoded and published at once, and the run exits 0 without waiting out --batch-wait-ms', async () => {
    let child: ChildProcess | undefined;
    let signalled = false;
    // Only against a hang: the field would otherwise wait 600 s for three others that never come.
    let guard: NodeJS.Timeout | undefined;
    const result = await runCommandProcess(
      ['run', '--data', join(work, 'data'), '--source', join(work, 'source'), '--model', join(work, 'models'), '--device', 'cpu', '--shards', 'off', '--from', '2019-09-20T00Z', '--to', '2019-09-20T00Z', '--batch-size', '4', '--batch-wait-ms', '600000', '--drain-seconds', '600', '--verbose'],
      {
        onStderr: (text, process) => {
          child = process;
          // Decoded: the field goes on to wait in its batch, the only one there will be.
          if (signalled || !text.includes('"msg":"decoded"')) return;
          signalled = true;
          child.kill('SIGTERM');
          guard = setTimeout(() => child!.kill('SIGKILL'), 45_000);
        },
      },
    );
    clearTimeout(guard);
    assert.ok(signalled, result.stderr);
    assert.equal(result.status, 0, `exit status ${result.status} (null: still waiting for its batch 45 s after SIGTERM, killed)\n${result.stderr}`);
    assert.deepEqual(
      result.lines.filter((line) => (line as { status?: string }).status),
      [{ hour: '2019-09-20T00Z', status: 'done', key: smallAnalysisOfHour(0).key, fields: 1 }],
    );

    const bus = new FileBus(join(work, 'data'));
    const codec = await AvroCodec.create();
    const consumer = bus.consumer({ group: 'check', topics: [codec.topics.embeddings], fromBeginning: true });
    const [record] = await take(consumer, 1);
    await consumer.close();
    await bus.close();
    const { value } = await codec.decode(record!);
    assert.equal((value as Embedding).modelVersion, 'small-1');
  });
});
