import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { embeddingKey, sampleEmbedding } from '../bus/sample-records.js';
import { repoRoot } from '../paths.js';

const cli = join(repoRoot, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-streams-'));
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

describe('logs of a command that reads Kafka', () => {
  it('similar logs the Kafka client\'s complaints as its own JSON lines (pino, under LOG_LEVEL), not in kafkajs\'s format', async () => {
    // A port nothing listens on: the client complains at once that it cannot connect.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));

    const similar = spawn(process.execPath, [cli, 'similar', '--time', '2019-09-20T05Z', '--kafka', `127.0.0.1:${port}`]);
    const exited = new Promise((resolve) => similar.once('exit', resolve));
    let stderr = '';
    similar.stderr.on('data', (chunk) => (stderr += chunk));
    while (!stderr.includes('\n')) await new Promise((resolve) => similar.stderr.once('data', resolve));
    similar.kill();
    await exited;
    const first = JSON.parse(stderr.split('\n')[0]!) as { level: unknown; msg?: string; logger?: string };
    assert.equal(first.logger, undefined, stderr);
    assert.equal(typeof first.level, 'number', 'pino\'s numeric level');
    assert.match(first.msg ?? '', /ECONNREFUSED|connect/i);
  });

  it('a process warning (the AWS SDK\'s that Node 20 will soon be unsupported) is one JSON line of the log like the others, not Node\'s lines of plain text', { skip: Number(process.versions.node.split('.')[0]) >= 22 && 'the AWS SDK warns on Node 20 only' }, async () => {
    // A server that is not there: the command makes its S3 client (which warns), fails its requests and exits 1.
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const fetch = spawn(process.execPath, [cli, 'fetch', '--time', '2019-09-20T01Z', '--source', 's3://hrrr', '--endpoint', 'http://127.0.0.1:1', '--out', join(work, 'never.grib2')], { env });
    let stderr = '';
    fetch.stderr.on('data', (chunk) => (stderr += chunk));
    const status = await new Promise((resolve) => fetch.once('close', resolve));
    assert.equal(status, 1, stderr);
    // Its last line is the command's own message for a person; every line before it is the log.
    const logLines = stderr.trim().split('\n').slice(0, -1);
    for (const line of logLines) assert.doesNotThrow(() => JSON.parse(line), `a JSON line: ${line}`);
    const warning = logLines.map((line) => JSON.parse(line) as { level: number; warning?: string; msg: string }).find((line) => line.warning !== undefined);
    assert.equal(warning?.level, 40, stderr);
    assert.match(warning.msg, /^NodeVersionSupportWarning: .*node >=22/s);
  });
});
