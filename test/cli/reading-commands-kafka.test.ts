import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { AvroCodec } from '../../bus/avro/codec.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import { startBroker, type TestBroker } from '../../infra/kafka/broker.js';
import { silentLogger } from '../../stages/stage.js';
import { embeddingKey, sampleEmbedding } from '../bus/sample-records.js';
import type { CommandResult } from '../support/cli-process.js';
import { repoRoot } from '../paths.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-reading-kafka-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** `hrrr-embed ARGS`, killed if still running after a minute: a command that hangs fails its test (signal SIGKILL) instead of stalling it. */
function runAtMost(args: string[], { onLine = () => {}, onStart = () => {} }: { onLine?: (line: string) => void; onStart?: (child: ChildProcess) => void } = {}): Promise<CommandResult & { signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), ...args]);
  const limit = setTimeout(() => child.kill('SIGKILL'), 60_000);
  onStart(child);
  const lines: unknown[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    pending += chunk;
    for (let end; (end = pending.indexOf('\n')) >= 0; pending = pending.slice(end + 1)) {
      const line = pending.slice(0, end);
      lines.push(JSON.parse(line));
      onLine(line);
    }
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) =>
    child.on('close', (status, signal) => {
      clearTimeout(limit);
      resolve({ status, lines, stderr, signal });
    }),
  );
}

/** The client ids of the members of the tails' groups (hrrr-embed-tail-*), once there are any, or none after 20 s. */
async function tailMembers(admin: Admin): Promise<string[]> {
  for (let tries = 0; tries < 100; tries++) {
    const tails = (await admin.listGroups()).groups.filter((group) => group.groupId.startsWith('hrrr-embed-tail-')).map((group) => group.groupId);
    const clientIds = (await admin.describeGroups(tails)).groups.filter((group) => group.state === 'Stable').flatMap((group) => group.members.map((member) => member.clientId));
    if (clientIds.length > 0) return clientIds;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return [];
}

describe('tail, similar and reconstruct with no broker answering', () => {
  it('each fails (exit 1) naming the brokers it tried, after a few tries, not kafkajs’s two minutes of retries', async () => {
    // Port 1 on the loopback: nothing listens there, every connection is refused at once.
    const kafka = ['--kafka', '127.0.0.1:1'];
    const results = await Promise.all([
      runAtMost(['tail', 'embeddings', ...kafka]),
      runAtMost(['similar', '--time', '2019-09-20T05Z', ...kafka]),
      runAtMost(['reconstruct', '--time', '2019-09-20T05Z', '--png', join(work, 'field.png'), ...kafka]),
    ]);
    for (const [command, result] of ['tail', 'similar', 'reconstruct'].map((command, i) => [command, results[i]!] as const)) {
      assert.equal(result.status, 1, `${command}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`^hrrr-embed ${command}: kafka://127\\.0\\.0\\.1:1: no broker answered \\(6 tries\\): .*ECONNREFUSED`, 'm'), command);
    }
  });

  it('Ctrl-C ends a tail still waiting for a broker at once, as it ends any command (by the signal), not when the tries run out', async () => {
    const result = await runAtMost(['tail', 'embeddings', '--kafka', '127.0.0.1:1'], {
      // kafkajs's warning of the first refused connection: the tail is waiting for a broker now.
      onStart: (child) => child.stderr!.once('data', () => child.kill('SIGINT')),
    });
    assert.equal(result.signal, 'SIGINT', result.stderr);
    assert.doesNotMatch(result.stderr, /no broker answered/);
  });
});

describe('tail, similar and reconstruct on a real broker', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startBroker();
    const bus = new KafkaBus({ brokers: [broker.address], log: silentLogger });
    try {
      await bus.createTopic('embeddings');
      await bus.createTopic('alerts');
    } finally {
      await bus.close();
    }
  });
  after(() => broker?.stop());

  it('tail of a topic the broker does not have fails naming it and the topics it has', async () => {
    const result = await runAtMost(['tail', 'embedding', '--kafka', broker.address]);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /^hrrr-embed tail: kafka:\/\/127\.0\.0\.1:\d+: no topic "embedding" \(its topics: alerts, embeddings\)/m);
  });

  it('tail --max N prints N records and ends, naming itself to the brokers by --kafka-client-id meanwhile', async () => {
    const codec = await AvroCodec.create();
    const bus = new KafkaBus({ brokers: [broker.address], log: silentLogger });
    const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await bus.produce('embeddings', [(await codec.encode('embeddings', embeddingKey, sampleEmbedding(1))).record]);
      let clientIds: string[] = [];
      const tail = runAtMost(['tail', 'embeddings', '--kafka', broker.address, '--from-beginning', '--max', '2', '--kafka-client-id', 'hrrr-embed-ops'], {
        // The first record printed: the tail is a group member now, which waits for a second.
        onLine: (line) => {
          if (JSON.parse(line).offset !== 0) return;
          void (async () => {
            clientIds = await tailMembers(admin);
            await bus.produce('embeddings', [(await codec.encode('embeddings', embeddingKey, sampleEmbedding(2))).record]);
          })();
        },
      });
      const result = await tail;
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(
        result.lines.map((line) => (line as { offset: number }).offset),
        [0, 1],
      );
      assert.deepEqual([...new Set(clientIds)], ['hrrr-embed-ops']);
    } finally {
      await admin.disconnect();
      await bus.close();
    }
  });

  it('Ctrl-C ends a tail waiting for records, cleanly (exit 0, nothing on stderr)', async () => {
    const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const result = await runAtMost(['tail', 'alerts', '--kafka', broker.address], {
        onStart: (child) =>
          void (async () => {
            await tailMembers(admin);
            child.kill('SIGINT');
          })(),
      });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr, '');
    } finally {
      await admin.disconnect();
    }
  });
});
