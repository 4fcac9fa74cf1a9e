import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileBus } from '../../bus/files/file-bus.js';
import { FolderStore } from '../../store/folder.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { objectCreatedRecord } from '../support/object-events.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-run-events-log-'));
  const corrupt = smallAnalysisOfHour(3);
  await putAnalysis(new FolderStore(join(work, 'source')), { ...corrupt, grib2: Uint8Array.from(corrupt.grib2, (byte, i) => (i < 4 ? 0x58 : byte)) });
});
after(() => rm(work, { recursive: true, force: true }));

describe('hrrr-embed run --events, its log', () => {
  it('logs each dead letter as an error naming the object (or the event) and the stage, as the polling consumer does', { timeout: 60_000 }, async () => {
    const data = join(work, 'data');
    const bus = new FileBus(data);
    await bus.createTopic('hrrr-objects');
    await bus.produce('hrrr-objects', [objectCreatedRecord(smallAnalysisOfHour(3).key), { key: null, value: Buffer.from('not json') }]);
    await bus.close();
    let handled = 0;
    const result = await runCommandProcess(['run', '--events', 'hrrr-objects', '--source', join(work, 'source'), '--data', data, '--device', 'cpu'], {
      onLine: (_line, child) => void (++handled === 2 && child.kill('SIGTERM')),
    });
    assert.equal(result.status, 0, result.stderr);
    const rejected = result.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string; key?: string; stage?: string; hour?: string | null })
      .filter((line) => line.msg === 'analysis rejected: dead letter')
      .map(({ level, key, stage, hour }) => ({ level, key, stage, hour }));
    assert.deepEqual(rejected, [
      { level: 50, key: smallAnalysisOfHour(3).key, stage: 'fetch', hour: '2019-09-20T03Z' },
      { level: 50, key: 'kafka:hrrr-objects/0/1', stage: 'object-events', hour: null },
    ]);
  });
});

describe('hrrr-embed run --events on the file bus, an events topic that is not there', () => {
  // It waited without a word for a misspelt topic; on Kafka the same mistake ends the run at its start.
  it('ends the run at its start, exit 1, naming the topic and the topics there are', { timeout: 60_000 }, async () => {
    const data = join(work, 'misspelt-data');
    const bus = new FileBus(data);
    await bus.createTopic('hrrr-objects');
    await bus.close();
    const result = await runCommandProcess(['run', '--events', 'hrrr-objetcs', '--source', join(work, 'source'), '--data', data, '--device', 'cpu'], {
      onLine: (_line, child) => child.kill('SIGTERM'),
      onStderr: (text, child) => void (/"msg":"encoder"/.test(text) && setTimeout(() => child.kill('SIGTERM'), 5_000)),
    });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /^hrrr-embed run: file:\/\/\/.*misspelt-data: no topic "hrrr-objetcs" \(its topics: [^)]*hrrr-objects/m);
  });
});
