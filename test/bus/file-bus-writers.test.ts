import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileBus } from '../../bus/files/file-bus.js';
import { PartitionReader } from '../../bus/files/partition-log.js';
import { text, textRecords } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-file-bus-writers-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** Another process that writes one record to `topic` and holds the bus open until its stdin ends; resolves once its record is on disk. */
async function otherWriter(folder: string, topic: string): Promise<{ child: ChildProcess; lines: string[]; nextLine(): Promise<string> }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'file-bus-writer-child.js'), folder, topic], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  let pending = '';
  child.stdout!.on('data', (chunk) => {
    pending += chunk;
    for (let end; (end = pending.indexOf('\n')) >= 0; pending = pending.slice(end + 1)) {
      lines.push(pending.slice(0, end));
      waiting?.(lines.shift()!);
      waiting = undefined;
    }
  });
  const nextLine = () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise<string>((resolve) => (waiting = resolve)));
  assert.deepEqual(JSON.parse(await nextLine()), { offset: 0 });
  return { child, lines, nextLine };
}

async function readAll(folder: string, topic: string): Promise<Array<{ offset: number; value: string }>> {
  const reader = await PartitionReader.at(join(folder, 'topics', topic, '0.log'), 0);
  const records = (await reader.read()).map((record) => ({ offset: record.offset, value: text(record.value)! }));
  await reader.close();
  return records;
}

describe('file bus: one writer per partition', () => {
  it('a second process producing to a partition another process writes is refused, naming it, until that one closes its bus', async () => {
    const folder = join(work, 'live');
    const setup = new FileBus(folder);
    await setup.createTopic('t');
    await setup.close();
    const other = await otherWriter(folder, 't');

    const bus = new FileBus(folder);
    await assert.rejects(bus.produce('t', textRecords(['mine'])), new RegExp(`partition file .*/topics/t/0\\.log is written by process ${other.child.pid} on this host .*one process writes a partition`));
    other.child.stdin!.end();
    assert.equal(await other.nextLine(), 'closed');
    await once(other.child, 'exit');
    const [produced] = await bus.produce('t', textRecords(['mine']));
    assert.equal(produced!.offset, 1, 'the offset the record has in the log');
    await bus.close();
    assert.deepEqual(await readAll(folder, 't'), [
      { offset: 0, value: `from ${other.child.pid}` },
      { offset: 1, value: 'mine' },
    ]);
  });

  it('a partition whose writer died (SIGKILL) is written by the next process at once', async () => {
    const folder = join(work, 'dead');
    const setup = new FileBus(folder);
    await setup.createTopic('t');
    await setup.close();
    const other = await otherWriter(folder, 't');
    other.child.kill('SIGKILL');
    await once(other.child, 'exit');

    const bus = new FileBus(folder);
    const [produced] = await bus.produce('t', textRecords(['after']));
    assert.equal(produced!.offset, 1);
    await bus.close();
    assert.deepEqual((await readAll(folder, 't')).map((record) => record.value), [`from ${other.child.pid}`, 'after']);
  });
});
