import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type TestBroker } from '../../infra/kafka/broker.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

/** A CA and a certificate it signed for 127.0.0.1, made by openssl: the CA's PEM file, and the broker's key and certificate chain in one PEM file. */
function certificates(folder: string): { ca: string; serverPem: string } {
  const openssl = (...args: string[]) => {
    const result = spawnSync('openssl', args, { cwd: folder, encoding: 'utf8' });
    assert.equal(result.status, 0, `openssl ${args.join(' ')}: ${result.stderr}`);
  };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=hrrr-embed test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.cnf');
  openssl('pkcs8', '-topk8', '-nocrypt', '-in', 'server.key', '-out', 'server.p8');
  return { ca: join(folder, 'ca.pem'), serverPem: join(folder, 'server.pem') };
}

const password = 'alice-s3cret-pw';
let work: string;
let broker: TestBroker;
let ca: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-kafka-security-'));
  await writeFile(join(work, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  const made = certificates(work);
  await writeFile(made.serverPem, Buffer.concat([await readFile(join(work, 'server.p8')), await readFile(join(work, 'server.crt'))]));
  ca = made.ca;
  broker = await startBroker({ secured: { pemFile: made.serverPem, users: { alice: password } } });
  await putAnalysis(new FolderStore(join(work, 'source')), smallAnalysisOfHour(0));
  await selectBackend('cpu', 'inference', silentLogger);
  const models = new FolderStore(join(work, 'models'));
  await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1' });
  await promoteVersion(models, 'small-1');
});
after(async () => {
  await broker?.stop();
  await rm(work, { recursive: true, force: true });
});

const oneHour = ['--from', '2019-09-20T00Z', '--to', '2019-09-20T00Z'];
const runArgs = (extra: string[], hours = oneHour) => ['run', '--source', join(work, 'source'), '--state', join(work, 'state'), '--model', join(work, 'models'), '--device', 'cpu', '--shards', 'off', ...hours, '--kafka', broker.securedAddress!, ...extra];

describe('hrrr-embed run on a Kafka cluster that wants TLS and SASL', () => {
  it('publishes over TLS (trusting --kafka-ca) with SASL PLAIN, the password from HRRR_EMBED_KAFKA_PASSWORD and never in its logs', async () => {
    const result = await runCommandProcess(runArgs(['--kafka-ca', ca, '--kafka-sasl-mechanism', 'plain', '--kafka-username', 'alice']), { env: { HRRR_EMBED_KAFKA_PASSWORD: password } });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.lines.filter((line) => (line as { status?: string }).status === 'done').length, 1, result.stderr);
    assert.ok(!result.stderr.includes(password), 'the password is not in the logs');
    const admin = new Kafka({ brokers: [broker.securedAddress!], logLevel: logLevel.NOTHING, ssl: { ca: [await readFile(ca, 'utf8')] }, sasl: { mechanism: 'plain', username: 'alice', password } }).admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchTopicOffsets('embeddings');
      assert.equal(offsets!.high, '1', 'one embedding on the secured cluster');
    } finally {
      await admin.disconnect();
    }
  });

  it('tail and similar read it back over TLS and SASL too', async () => {
    const security = ['--kafka', broker.securedAddress!, '--kafka-ca', ca, '--kafka-sasl-mechanism', 'plain', '--kafka-username', 'alice'];
    const env = { HRRR_EMBED_KAFKA_PASSWORD: password };
    const tail = await runCommandProcess(['tail', 'embeddings', '--from-beginning', '--max', '1', ...security], { env });
    assert.equal(tail.status, 0, tail.stderr);
    assert.equal((tail.lines[0] as { value: { modelVersion: string } }).value.modelVersion, 'small-1');
    const similar = await runCommandProcess(['similar', '--time', '2019-09-20T00Z', ...security], { env });
    assert.equal(similar.status, 0, similar.stderr);
    assert.ok(!`${tail.stderr}${similar.stderr}`.includes(password));
  });

  it('names itself to the brokers with --kafka-client-id (quotas, ACLs and the broker’s logs go by it)', async () => {
    const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    let clientIds: string[] = [];
    let watching = false;
    try {
      // Following (no --to), with --model: its model-versions watcher is a group member, whose client id the broker reports.
      const result = await runCommandProcess(runArgs(['--kafka-ca', ca, '--kafka-sasl-mechanism', 'plain', '--kafka-username', 'alice', '--kafka-client-id', 'hrrr-embed-prod-a', '--state', join(work, 'state-following')], ['--from', '2019-09-20T00Z']), {
        env: { HRRR_EMBED_KAFKA_PASSWORD: password },
        // One look, from the first line on: a second SIGTERM would stop the run at once (exit 1), or,
        // once it has let go of its handler, kill it.
        onLine: (_, child) => {
          if (watching) return;
          watching = true;
          void (async () => {
            for (let tries = 0; tries < 100 && clientIds.length === 0; tries++) {
              const watchers = (await admin.listGroups()).groups.filter((group) => group.groupId.startsWith('hrrr-embed-model-watch-')).map((group) => group.groupId);
              const { groups } = await admin.describeGroups(watchers);
              clientIds = groups.flatMap((group) => group.members.map((member) => member.clientId));
              if (clientIds.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
            }
            child.kill('SIGTERM');
          })();
        },
      });
      assert.equal(result.status, 0, result.stderr);
    } finally {
      await admin.disconnect();
    }
    assert.deepEqual([...new Set(clientIds)], ['hrrr-embed-prod-a']);
  });

  it('a wrong password fails the run (exit 1) with the broker’s refusal, not the password', async () => {
    const result = await runCommandProcess(runArgs(['--kafka-ca', ca, '--kafka-sasl-mechanism', 'plain', '--kafka-username', 'alice']), { env: { HRRR_EMBED_KAFKA_PASSWORD: 'not-the-password' } });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /SASL PLAIN authentication failed/);
    assert.ok(!result.stderr.includes('not-the-password'), result.stderr);
  });

  it('a security setting that cannot be used exits 2 naming it', async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['--kafka-username', 'alice'], {}, /--kafka-username needs --kafka-sasl-mechanism/],
      [['--kafka-sasl-mechanism', 'gssapi', '--kafka-username', 'alice'], { HRRR_EMBED_KAFKA_PASSWORD: password }, /--kafka-sasl-mechanism: "gssapi" is not one of plain, scram-sha-256, scram-sha-512/],
      [['--kafka-sasl-mechanism', 'plain', '--kafka-username', 'alice'], {}, /--kafka-sasl-mechanism needs --kafka-username and a password \(HRRR_EMBED_KAFKA_PASSWORD\)/],
      [['--kafka-ca', join(work, 'san.cnf')], {}, /--kafka-ca: .*san\.cnf holds no PEM certificate/],
      // Else the brokers saw a client with no name (quotas, ACLs and their logs go by it): an unset variable in a compose file gives ''.
      [['--kafka-client-id', ''], {}, /--kafka-client-id: an empty client id names no client/],
      [[], { HRRR_EMBED_KAFKA_CLIENT_ID: ' ' }, /HRRR_EMBED_KAFKA_CLIENT_ID: an empty client id names no client/],
    ];
    for (const [extra, env, expected] of cases) {
      const result = await runCommandProcess(runArgs(extra), { env });
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, expected);
    }
    const tail = await runCommandProcess(['tail', 'embeddings', '--kafka', broker.securedAddress!, '--kafka-client-id', '']);
    assert.equal(tail.status, 2, tail.stderr);
    assert.match(tail.stderr, /--kafka-client-id: an empty client id names no client/);
    const noKafka = await runCommandProcess(['run', '--source', join(work, 'source'), '--data', join(work, 'data'), '--once', '--kafka-tls']);
    assert.equal(noKafka.status, 2, noKafka.stderr);
    assert.match(noKafka.stderr, /--kafka-tls: only for --kafka/);
  });
});
