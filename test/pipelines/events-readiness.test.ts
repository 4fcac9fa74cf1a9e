import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import { startBroker, type TestBroker } from '../../infra/kafka/broker.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { runCommandProcess } from '../support/cli-process.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

let broker: TestBroker;
let work: string;
before(async () => {
  [broker, work] = await Promise.all([startBroker(), mkdtemp(join(tmpdir(), 'hrrr-embed-events-ready-'))]);
  await mkdir(join(work, 'source')); // an empty source: a missing one is refused
  await selectBackend('cpu', 'inference', silentLogger);
});
after(async () => {
  await broker.stop();
  await rm(work, { recursive: true, force: true });
});

describe('readiness of the consumer driven by events', () => {
  it('hrrr-embed run --events answers /readyz 200 only once its consumer is a member of the group, not while the group rebalances to take it in', { timeout: 60_000 }, async () => {
    const models = new FolderStore(join(work, 'models'));
    await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1' });
    await promoteVersion(models, 'small-1');
    const bus = new KafkaBus({ brokers: [broker.address], log: silentLogger });
    await bus.createTopic('ready-objects');
    await bus.close();
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    // A member already there, slow to hear of a rebalance: the group takes seconds to let the consumer in.
    const other = kafka.consumer({ groupId: 'ready', heartbeatInterval: 4000, sessionTimeout: 30_000, rebalanceTimeout: 30_000 });
    await other.connect();
    await other.subscribe({ topics: ['ready-objects'] });
    const otherJoined = new Promise((resolve) => other.on(other.events.GROUP_JOIN, resolve));
    await other.run({ eachMessage: async () => {} });
    await otherJoined;

    let url: string | undefined;
    let watching: Promise<void> | undefined;
    let whenReady: { state: string; members: number } | undefined;
    // Asks /readyz until it says ready, then looks at the group as the broker sees it, and stops the consumer.
    const watch = async (child: ChildProcess) => {
      while (child.exitCode === null) {
        const status = await fetch(`${url}/readyz`).then((response) => response.status, () => 0);
        if (status === 200) {
          const { groups } = await admin.describeGroups(['ready']);
          whenReady = { state: groups[0]!.state, members: groups[0]!.members.length };
          child.kill('SIGTERM');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    try {
      const result = await runCommandProcess(
        ['run', '--kafka', broker.address, '--events', 'ready-objects', '--group', 'ready', '--topic-prefix', 'ready.', '--source', join(work, 'source'), '--state', join(work, 'state'), '--model', join(work, 'models'), '--device', 'cpu', '--metrics-port', '0'],
        {
          onStderr: (stderr, child) => {
            url ??= /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr)?.[1];
            if (url) watching ??= watch(child);
          },
        },
      );
      await watching;
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(whenReady, { state: 'Stable', members: 2 }, 'when first ready, the consumer is a member of its settled group');
    } finally {
      await other.disconnect();
      await admin.disconnect();
    }
  });
});
