import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs, { Kafka, logLevel, type Admin } from 'kafkajs';
import { defaultTopics } from '../../bus/bus.js';
import { startBroker, type TestBroker } from '../../infra/kafka/broker.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { objectCreatedRecord } from '../support/object-events.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

// An administered cluster: topics made by its administrator, and a service user (alice) with only
// the rights it was given: READ, WRITE and DESCRIBE on the topics under admin. and missing., READ
// and DESCRIBE on readonly., DESCRIBE on described.objects, READ on group embedders; no CREATE.
const password = 'alice-s3cret-pw';
let work: string;
let broker: TestBroker;
let admin: Admin;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-kafka-acls-'));
  broker = await startBroker({ secured: { users: { alice: password } }, acls: true });
  admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [...Object.values(defaultTopics).map((name) => ({ topic: `admin.${name}`, numPartitions: 3 })), ...Object.values(defaultTopics).map((name) => ({ topic: `readonly.${name}` })), { topic: 'described.objects' }, { topic: 'admin.objects' }], waitForLeaders: true });
  const allow = (resourceType: number, resourceName: string, resourcePatternType: number, operation: number) => ({ resourceType, resourceName, resourcePatternType, principal: 'User:alice', host: '*', operation, permissionType: AclPermissionTypes.ALLOW });
  await admin.createAcls({
    acl: [
      ...['admin.', 'missing.'].flatMap((prefix) => [AclOperationTypes.READ, AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE].map((operation) => allow(AclResourceTypes.TOPIC, prefix, ResourcePatternTypes.PREFIXED, operation))),
      ...[AclOperationTypes.READ, AclOperationTypes.DESCRIBE].map((operation) => allow(AclResourceTypes.TOPIC, 'readonly.', ResourcePatternTypes.PREFIXED, operation)),
      // An events topic alice may see but not read, and the group she would read it in.
      allow(AclResourceTypes.TOPIC, 'described.objects', ResourcePatternTypes.LITERAL, AclOperationTypes.DESCRIBE),
      allow(AclResourceTypes.GROUP, 'embedders', ResourcePatternTypes.LITERAL, AclOperationTypes.READ),
    ],
  });
  await putAnalysis(new FolderStore(join(work, 'source')), smallAnalysisOfHour(0));
  await selectBackend('cpu', 'inference', silentLogger);
  const models = new FolderStore(join(work, 'models'));
  await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1' });
  await promoteVersion(models, 'small-1');
});
after(async () => {
  await admin?.disconnect();
  await broker?.stop();
  await rm(work, { recursive: true, force: true });
});

const runAsAlice = (prefix: string) =>
  runCommandProcess(
    ['run', '--source', join(work, 'source'), '--state', join(work, `state-${prefix}`), '--model', join(work, 'models'), '--device', 'cpu', '--shards', 'off', '--from', '2019-09-20T00Z', '--to', '2019-09-20T00Z', '--topic-prefix', prefix, '--kafka', broker.securedAddress!, '--kafka-sasl-mechanism', 'plain', '--kafka-username', 'alice'],
    { env: { HRRR_EMBED_KAFKA_PASSWORD: password } },
  );

describe('hrrr-embed on a cluster with ACLs, as a user with only the rights it was given', () => {
  it('publishes to the topics the administrator made, with their partition count, asking for no CREATE right', async () => {
    const result = await runAsAlice('admin.');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.lines.filter((line) => (line as { status?: string }).status === 'done').length, 1, result.stderr);
    const partitions = await admin.fetchTopicOffsets('admin.embeddings');
    assert.equal(partitions.length, 3, 'the administrator\'s partition count is kept');
    assert.equal(partitions.reduce((sum, { high }) => sum + Number(high), 0), 1, 'one embedding');
  });

  it('fails at its start naming the missing topic and the CREATE right when the topics are not there', async () => {
    const result = await runAsAlice('missing.');
    assert.equal(result.status, 1, result.stderr);
    const said = result.stderr.split('\n').find((line) => line.startsWith('hrrr-embed run:'))!;
    assert.match(said, /no topic "missing\.[a-z-]+"/, result.stderr);
    assert.match(said, /may not DESCRIBE it\), and it may not create it .*TOPIC_AUTHORIZATION_FAILED.*CREATE/, said);
    assert.deepEqual(await admin.listTopics().then((topics) => topics.filter((topic) => topic.startsWith('missing.'))), []);
  });

  it('fails naming the topic and the WRITE right when it may not write its records', async () => {
    const result = await runAsAlice('readonly.');
    assert.equal(result.status, 1, result.stderr);
    const said = result.stderr.split('\n').find((line) => line.startsWith('hrrr-embed run:'))!;
    assert.match(said, /topic "readonly\.embeddings"/, said);
    assert.match(said, /WRITE/, said);
  });

  it('tail without the READ right on its consumer group fails naming the group and the right, not "Failed to find group coordinator"', async () => {
    const result = await runCommandProcess(['tail', 'admin.embeddings', '--from-beginning', '--max', '1', '--kafka', broker.securedAddress!, '--kafka-sasl-mechanism', 'plain', '--kafka-username', 'alice'], { env: { HRRR_EMBED_KAFKA_PASSWORD: password } });
    assert.equal(result.status, 1, result.stderr);
    const said = result.stderr.split('\n').find((line) => line.startsWith('hrrr-embed tail:'))!;
    assert.match(said, /consumer group "hrrr-embed-tail-[0-9a-f-]+"/, said);
    assert.match(said, /READ/, said);
  });

  it('run --events without the READ right on its events topic fails naming the topic and the right', async () => {
    const result = await runCommandProcess(
      ['run', '--events', 'described.objects', '--group', 'embedders', '--topic-prefix', 'admin.', '--source', join(work, 'source'), '--state', join(work, 'state-described'), '--model', join(work, 'models'), '--device', 'cpu', '--kafka', broker.securedAddress!, '--kafka-sasl-mechanism', 'plain', '--kafka-username', 'alice'],
      { env: { HRRR_EMBED_KAFKA_PASSWORD: password } },
    );
    assert.equal(result.status, 1, result.stderr);
    const said = result.stderr.split('\n').find((line) => line.startsWith('hrrr-embed run:'))!;
    assert.match(said, /topic "described\.objects"/, said);
    assert.match(said, /READ/, said);
  });

  it('run --events without the WRITE right on its transactional ids fails naming them and the right, not "Failed to find group coordinator"', async () => {
    const producer = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: 'admin.objects', messages: [objectCreatedRecord(smallAnalysisOfHour(0).key)].map(({ key, value }) => ({ key: Buffer.from(key!), value: Buffer.from(value) })) });
    await producer.disconnect();
    const result = await runCommandProcess(
      ['run', '--events', 'admin.objects', '--group', 'embedders', '--topic-prefix', 'admin.', '--source', join(work, 'source'), '--state', join(work, 'state-transactions'), '--model', join(work, 'models'), '--device', 'cpu', '--kafka', broker.securedAddress!, '--kafka-sasl-mechanism', 'plain', '--kafka-username', 'alice'],
      { env: { HRRR_EMBED_KAFKA_PASSWORD: password } },
    );
    assert.equal(result.status, 1, result.stderr);
    const said = result.stderr.split('\n').find((line) => line.startsWith('hrrr-embed run:'))!;
    assert.match(said, /transactional id "hrrr-embed-embedders-admin\.objects-0"/, said);
    assert.match(said, /WRITE/, said);
  });

  it('run --events with an events topic that is not there fails naming it, not "This server does not host this topic-partition"', async () => {
    const result = await runCommandProcess(
      ['run', '--events', 'admin.hrrr-objetcs', '--group', 'embedders', '--topic-prefix', 'admin.', '--source', join(work, 'source'), '--state', join(work, 'state-events'), '--model', join(work, 'models'), '--device', 'cpu', '--kafka', broker.securedAddress!, '--kafka-sasl-mechanism', 'plain', '--kafka-username', 'alice'],
      { env: { HRRR_EMBED_KAFKA_PASSWORD: password } },
    );
    assert.equal(result.status, 1, result.stderr);
    const said = result.stderr.split('\n').find((line) => line.startsWith('hrrr-embed run:'))!;
    assert.match(said, /no topic "admin\.hrrr-objetcs"/, said);
  });
});
