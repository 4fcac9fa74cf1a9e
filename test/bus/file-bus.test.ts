import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileBus } from '../../bus/files/file-bus.js';
import { encodeFrame } from '../../bus/files/frame.js';
import { PartitionReader } from '../../bus/files/partition-log.js';
import { numbered, take, text, textRecords } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-file-bus-'));
after(() => rmSync(work, { recursive: true, force: true }));
let folders = 0;
const freshFolder = () => join(work, `data-${folders++}`);

describe('file bus', () => {
  it('reads back what was appended: key, value, headers, timestamp, offsets in order per partition', async () => {
    const bus = new FileBus(freshFolder());
    await bus.createTopic('embeddings', { partitions: 3 });
    const timestamp = new Date('2019-09-20T05:00:00Z');
    const produced = await bus.produce('embeddings', [
      { key: Buffer.from('REFC@05'), value: Buffer.from('first'), headers: { kind: Buffer.from('a') }, timestamp },
      { key: Buffer.from('REFC@05'), value: Buffer.from('second'), timestamp },
      { key: null, value: new Uint8Array(0) },
    ]);
    assert.equal(produced[0]!.partition, produced[1]!.partition, 'equal keys share a partition');
    assert.equal(produced[1]!.offset, produced[0]!.offset + 1);

    const consumer = bus.consumer({ group: 'g', topics: ['embeddings'], fromBeginning: true });
    const records = await take(consumer, 3);
    const first = records.find((record) => text(record.value) === 'first')!;
    assert.deepEqual([text(first.key), text(first.headers.kind!), first.timestamp.toISOString()], ['REFC@05', 'a', '2019-09-20T05:00:00.000Z']);
    assert.deepEqual({ partition: first.partition, offset: first.offset }, { partition: produced[0]!.partition, offset: produced[0]!.offset });
    const empty = records.find((record) => record.key === null)!;
    assert.equal(empty.value.length, 0);
    await bus.close();
  });

  it('a torn final record is ignored by readers and cut off by the next append', async () => {
    const folder = freshFolder();
    const writer = new FileBus(folder);
    await writer.createTopic('t');
    await writer.produce('t', textRecords(numbered('r', 3)));
    await writer.close();
    const log = join(folder, 'topics', 't', '0.log');
    const whole = statSync(log).size;
    // A crash halfway through the next append: half a frame at the end.
    const frame = encodeFrame({ key: null, value: Buffer.from('torn'), headers: {}, timestamp: new Date() });
    appendFileSync(log, frame.subarray(0, frame.length >> 1));

    const reader = new FileBus(folder);
    assert.deepEqual((await take(reader.consumer({ group: 'g', topics: ['t'], fromBeginning: true }), 3)).map((r) => text(r.value)), ['r0', 'r1', 'r2']);

    const next = new FileBus(folder);
    const [produced] = await next.produce('t', textRecords(['r3']));
    assert.equal(produced!.offset, 3, 'the next record follows the last whole one');
    assert.equal(statSync(log).size, whole + encodeFrame({ key: null, value: Buffer.from('r3'), headers: {}, timestamp: new Date() }).length);
    const records = await take(reader.consumer({ group: 'g2', topics: ['t'], fromBeginning: true }), 4);
    assert.deepEqual(records.map((r) => [r.offset, text(r.value)]), [[0, 'r0'], [1, 'r1'], [2, 'r2'], [3, 'r3']]);
    await Promise.all([reader.close(), next.close()]);
  });

  it('a final record whose bytes were damaged fails its checksum and is dropped, not delivered', async () => {
    const folder = freshFolder();
    const bus = new FileBus(folder);
    await bus.createTopic('t');
    await bus.produce('t', textRecords(['kept', 'damaged']));
    await bus.close();
    const log = join(folder, 'topics', 't', '0.log');
    const bytes = readFileSync(log);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(log, bytes);

    const again = new FileBus(folder);
    await again.produce('t', textRecords(['after']));
    const records = await take(again.consumer({ group: 'g', topics: ['t'], fromBeginning: true }), 2);
    assert.deepEqual(records.map((r) => [r.offset, text(r.value)]), [[0, 'kept'], [1, 'after']]);
    await again.close();
  });

  it('committed offsets survive a restart: a new consumer of the group resumes after the last commit', async () => {
    const folder = freshFolder();
    const bus = new FileBus(folder);
    await bus.createTopic('t', { partitions: 2 });
    await bus.produce('t', textRecords(numbered('r', 10), (value) => value));
    const records = await take(bus.consumer({ group: 'resume', topics: ['t'], fromBeginning: true }), 10);
    const done = records.filter((record) => record.offset < 2);
    await bus.consumer({ group: 'resume', topics: ['t'] }).commit(done);
    await bus.close();
    assert.ok(existsSync(join(folder, 'groups', 'resume.json')));

    const restarted = new FileBus(folder);
    const remaining = new Set(records.filter((record) => record.offset >= 2).map((record) => text(record.value)));
    const resumed = await take(restarted.consumer({ group: 'resume', topics: ['t'], fromBeginning: true }), remaining.size);
    assert.deepEqual(new Set(resumed.map((record) => text(record.value))), remaining);
    await restarted.close();
  });

  it('tells a consumer it has joined (onJoin) once, when it starts reading, and not before', async () => {
    const bus = new FileBus(freshFolder());
    await bus.createTopic('t');
    await bus.produce('t', textRecords(numbered('r', 3), (value) => value));
    let joins = 0;
    const consumer = bus.consumer({ group: 'join', topics: ['t'], fromBeginning: true, onJoin: () => joins++ });
    assert.equal(joins, 0, 'a consumer reads nothing until iterated');
    await take(consumer, 2);
    await take(consumer, 1);
    assert.equal(joins, 1);
    await bus.close();
  });

  it('a consumer without fromBeginning and no commit reads only records produced after it started', async () => {
    const bus = new FileBus(freshFolder());
    await bus.createTopic('t');
    await bus.produce('t', textRecords(['old']));
    let received = false;
    const reading = take(bus.consumer({ group: 'late', topics: ['t'] }), 1).finally(() => (received = true));
    // The consumer finds its start when it first looks; keep producing until it has seen one.
    for (let i = 0; !received; i++) {
      await bus.produce('t', textRecords([`new${i}`]));
      await new Promise((resolve) => setTimeout(resolve, bus.pollIntervalMs));
    }
    assert.match(text((await reading)[0]!.value)!, /^new/);
    await bus.close();
  });

  it('a consumer sees records as another writer appends them', async () => {
    const folder = freshFolder();
    const writer = new FileBus(folder);
    await writer.createTopic('live');
    const reader = new FileBus(folder);
    const reading = take(reader.consumer({ group: 'g', topics: ['live'], fromBeginning: true }), 20);
    for (const batch of [numbered('a', 10), numbered('b', 10)]) await writer.produce('live', textRecords(batch));
    const records = await reading;
    assert.deepEqual(records.map((record) => text(record.value)), [...numbered('a', 10), ...numbered('b', 10)]);
    assert.deepEqual(records.map((record) => record.offset), numbered('', 20).map(Number));
    await Promise.all([writer.close(), reader.close()]);
  });

  it('a record whose bytes are only partly written is not read until the rest arrives', async () => {
    const folder = freshFolder();
    const bus = new FileBus(folder);
    await bus.createTopic('t');
    await bus.produce('t', textRecords(['whole']));
    await bus.close();
    const log = join(folder, 'topics', 't', '0.log');
    const reader = await PartitionReader.at(log, 0);
    const frame = encodeFrame({ key: null, value: Buffer.from('split'), headers: {}, timestamp: new Date() });
    appendFileSync(log, frame.subarray(0, 12));
    assert.deepEqual((await reader.read()).map((record) => text(record.value)), ['whole']);
    assert.deepEqual(await reader.read(), []);
    appendFileSync(log, frame.subarray(12));
    assert.deepEqual((await reader.read()).map((record) => [record.offset, text(record.value)]), [[1, 'split']]);
    await reader.close();
  });

  it('a consumer iterated again goes on where its last iteration stopped', async () => {
    const bus = new FileBus(freshFolder());
    await bus.createTopic('t');
    await bus.produce('t', textRecords(numbered('r', 6)));
    const consumer = bus.consumer({ group: 'g', topics: ['t'], fromBeginning: true });
    assert.deepEqual((await take(consumer, 2)).map((record) => text(record.value)), ['r0', 'r1']);
    assert.deepEqual((await take(consumer, 4)).map((record) => text(record.value)), ['r2', 'r3', 'r4', 'r5']);
    await bus.close();
  });

  it('a consumer started before its topic exists waits for it and reads it', async () => {
    const folder = freshFolder();
    const bus = new FileBus(folder);
    const reading = take(bus.consumer({ group: 'early', topics: ['later'], fromBeginning: true }), 2);
    const producer = new FileBus(folder);
    await producer.createTopic('later');
    await producer.produce('later', textRecords(['l0', 'l1']));
    assert.deepEqual((await reading).map((record) => text(record.value)), ['l0', 'l1']);
    await Promise.all([bus.close(), producer.close()]);
  });

  it('records larger than a read chunk come back whole', async () => {
    const bus = new FileBus(freshFolder());
    await bus.createTopic('big');
    const large = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    await bus.produce('big', [{ key: null, value: large }, { key: null, value: Buffer.from('small') }]);
    const records = await take(bus.consumer({ group: 'g', topics: ['big'], fromBeginning: true }), 2);
    assert.equal(Buffer.compare(Buffer.from(records[0]!.value), large), 0);
    assert.equal(text(records[1]!.value), 'small');
    await bus.close();
  });

  it('refuses to produce to a topic that was never created, and a name that would leave the folder', async () => {
    const folder = freshFolder();
    const bus = new FileBus(folder);
    await assert.rejects(bus.produce('missing', textRecords(['x'])), /no topic "missing"/);
    await assert.rejects(bus.createTopic('../escape'), /not a valid topic name/);
    await bus.close();
  });
});
