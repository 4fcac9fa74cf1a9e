import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeDurably } from '../../bus/files/durable.js';
import { FileBus } from '../../bus/files/file-bus.js';

let work: string;
before(async () => (work = await mkdtemp(join(tmpdir(), 'hrrr-embed-bus-leftovers-'))));
after(() => rm(work, { recursive: true, force: true }));

/** A file as a process killed while writing it leaves it: named by its pid, untouched for two hours. */
async function leftBehind(path: string): Promise<void> {
  await writeFile(path, 'half');
  const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
  await utimes(path, hoursAgo, hoursAgo);
}

describe('the file bus after a process killed mid-write', () => {
  it('removes the temporary files it left (partition count, group commit, writer lock) once the topic is written and the group read, and keeps a live writer\'s', async () => {
    const data = join(work, 'killed');
    const first = new FileBus(data);
    await first.createTopic('events');
    await first.produce('events', [{ key: null, value: new TextEncoder().encode('one') }]);
    await first.close();
    await mkdir(join(data, 'groups'), { recursive: true });
    const leftovers = [join(data, 'topics', 'events', 'partitions.partial-999999-0a1b2c3d'), join(data, 'topics', 'events', '0.log.writer.partial-999999-0a1b2c3d'), join(data, 'groups', 'readers.json.partial-999999-0a1b2c3d')];
    for (const path of leftovers) await leftBehind(path);
    const live = join(data, 'groups', `others.json.partial-${process.pid}-0a1b2c3d`);
    await writeFile(live, 'being written');

    const bus = new FileBus(data);
    await bus.produce('events', [{ key: null, value: new TextEncoder().encode('two') }]);
    const consumer = bus.consumer({ group: 'readers', topics: ['events'], fromBeginning: true });
    for await (const record of consumer.records(new AbortController().signal)) {
      await consumer.commit(record);
      break;
    }
    await consumer.close();
    await bus.close();

    assert.deepEqual((await readdir(join(data, 'topics', 'events'))).sort(), ['0.log', 'partitions']);
    assert.deepEqual((await readdir(join(data, 'groups'))).sort(), [`others.json.partial-${process.pid}-0a1b2c3d`, 'readers.json']);
  });

  it('a durable write failing part way (its rename refused) leaves no temporary file', async () => {
    const folder = join(work, 'failing');
    // A folder where the file should be: the rename over it fails.
    await mkdir(join(folder, 'readers.json', 'in-the-way'), { recursive: true });
    await assert.rejects(writeDurably(join(folder, 'readers.json'), '{}'));
    assert.deepEqual(await readdir(folder), ['readers.json']);
  });
});
