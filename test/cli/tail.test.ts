import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { embeddingKey, sampleDeadLetter, sampleEmbedding } from '../bus/sample-records.js';
import { repoRoot } from '../paths.js';

const cli = join(repoRoot, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-tail-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('hrrr-embed tail', () => {
  it('prints what was produced to a local topic as JSON lines, key and value decoded from Avro', async () => {
    const data = join(work, 'printed');
    const bus = new FileBus(data);
    const codec = await AvroCodec.create();
    await bus.createTopic('embeddings', { partitions: 2 });
    await bus.createTopic('dead-letters');
    const embedding = await codec.encode('embeddings', embeddingKey, sampleEmbedding());
    const deadLetter = await codec.encode('deadLetters', 's3://noaa-hrrr-bdp-pds/x.grib2', sampleDeadLetter);
    await bus.produce(embedding.topic, [embedding.record]);
    await bus.produce(deadLetter.topic, [deadLetter.record]);
    await bus.close();

    const result = run('tail', 'embeddings', '--data', data, '--from-beginning', '--max', '1');
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines.length, 1);
    assert.deepEqual(lines[0].key, { field: 'REFC:entire atmosphere:anl', validTime: '2019-09-20T05:00:00.000Z' });
    assert.deepEqual(lines[0].value.embedding, sampleEmbedding().embedding);
    assert.equal(lines[0].value.source.key, 'hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2');
    assert.deepEqual([lines[0].topic, lines[0].offset], ['embeddings', 0]);

    const dead = run('tail', 'dead-letters', '--data', data, '--from-beginning', '--max', '1');
    assert.equal(dead.status, 0, dead.stderr);
    const line = JSON.parse(dead.stdout);
    assert.deepEqual([line.key, line.value.stage, line.value.errorClass], ['s3://noaa-hrrr-bdp-pds/x.grib2', 'decode', 'Grib2Error']);
  });

  it('without --from-beginning it follows the topic and prints records produced after it started', async () => {
    const data = join(work, 'follow');
    const bus = new FileBus(data);
    const codec = await AvroCodec.create();
    await bus.createTopic('embeddings');
    const before = await codec.encode('embeddings', embeddingKey, sampleEmbedding(1));
    await bus.produce('embeddings', [before.record]);

    const tail = spawn(process.execPath, [cli, 'tail', 'embeddings', '--data', data, '--max', '1']);
    let stdout = '';
    tail.stdout.on('data', (chunk) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => tail.once('exit', resolve));
    let done = false;
    void exited.then(() => (done = true));
    // The tail starts at the end when it first looks: produce until it has printed one.
    while (!done) {
      await bus.produce('embeddings', [(await codec.encode('embeddings', embeddingKey, sampleEmbedding(2))).record]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await bus.close();
    assert.equal(await exited, 0);
    assert.deepEqual(JSON.parse(stdout).value.embedding, sampleEmbedding(2).embedding);
  });

  it('takes --kafka-client-id, as run does (on the file bus it names nothing)', async () => {
    const data = join(work, 'client-id');
    const bus = new FileBus(data);
    const codec = await AvroCodec.create();
    await bus.createTopic('embeddings');
    await bus.produce('embeddings', [(await codec.encode('embeddings', embeddingKey, sampleEmbedding())).record]);
    await bus.close();
    const result = run('tail', 'embeddings', '--data', data, '--from-beginning', '--max', '1', '--kafka-client-id', 'hrrr-embed-ops');
    assert.equal(result.status, 0, result.stderr);
  });

  it('a topic the data folder does not have fails at once, naming it and the topics there are, instead of waiting silently', async () => {
    const data = join(work, 'absent');
    const bus = new FileBus(data);
    await bus.createTopic('embeddings');
    await bus.createTopic('alerts');
    await bus.close();
    const result = run('tail', 'embedding', '--data', data);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /^hrrr-embed tail: file:\/\/.*: no topic "embedding" \(its topics: alerts, embeddings\)/m);
    const empty = run('tail', 'embeddings', '--data', join(work, 'nothing-yet'));
    assert.match(empty.stderr, /no topic "embeddings" \(it has none yet: `run` creates its topics when it starts\)/);
  });

  it('a wrong command line exits 2 with the usage', () => {
    assert.equal(run('tail').status, 2);
    assert.match(run('tail', 'embeddings', '--data', work, '--kafka', '127.0.0.1:9092').stderr, /--data and --kafka name two buses/);
    assert.equal(run('tail', 'embeddings', '--max', 'lots').status, 2);
    assert.equal(run('tail', 'embeddings', '--kafka', 'no-port').status, 2);
    assert.match(run('tail', '--help').stdout, /usage: hrrr-embed tail TOPIC/);
  });

  it('skips a record it cannot decode, naming it and why on stderr, and prints the next one', async () => {
    const data = join(work, 'garbage');
    const bus = new FileBus(data);
    const codec = await AvroCodec.create();
    await bus.createTopic('embeddings');
    await bus.produce('embeddings', [{ key: null, value: Buffer.from('not avro') }, (await codec.encode('embeddings', embeddingKey, sampleEmbedding())).record]);
    await bus.close();
    const garbage = run('tail', 'embeddings', '--data', data, '--from-beginning', '--max', '1');
    assert.equal(garbage.status, 0, garbage.stderr);
    assert.equal(JSON.parse(garbage.stdout).offset, 1);
    assert.match(garbage.stderr, /skipped embeddings\/0 offset 0: .*no avro\.value\.schema-sha256 header/);
    assert.match(garbage.stderr, /1 unreadable record of embeddings skipped/);
  });
});
