/**
 * A folder store's put is durable only once the folder's new entry is on disk too: the rename (or
 * link) that puts the object in place must be followed by a sync of its folder, or a power loss
 * may lose it; and a folder the put made (a new day's) is there only once the folder holding it
 * is synced. What cannot be seen from inside the process (no fs module is mocked) is watched as
 * it happens: a child process puts objects under strace, and the system calls it made are read.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FolderStore } from '../../store/folder.js';

const folderStore = fileURLToPath(new URL('../../store/folder.js', import.meta.url));
const fileBus = fileURLToPath(new URL('../../bus/files/file-bus.js', import.meta.url));
const traceable = spawnSync('strace', ['-f', '-o', '/dev/null', 'true']).status === 0;

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-folder-sync-'));
});
after(() => rm(work, { recursive: true, force: true }));

interface Call {
  name: string;
  args: string;
  result: number;
}

/** The system calls (of interest here) a child made, in order, each whole: strace -f splits a call that another thread interrupts into an unfinished and a resumed line. */
async function traced(script: string): Promise<Call[]> {
  const log = join(work, `trace-${Math.random().toString(36).slice(2)}`);
  const child = spawnSync('strace', ['-f', '-o', log, '-e', 'trace=openat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,fsync,fdatasync', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const pending = new Map<string, string>();
  const calls: Call[] = [];
  for (const line of (await readFile(log, 'utf8')).split('\n')) {
    const [, pid, rest] = /^(\d+)\s+(.*)$/.exec(line) ?? [];
    if (pid === undefined || rest === undefined) continue;
    let whole = rest;
    const unfinished = /^(.*) <unfinished \.\.\.>$/.exec(rest);
    if (unfinished) {
      pending.set(pid, unfinished[1]!);
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(rest);
    if (resumed) {
      whole = (pending.get(pid) ?? '') + resumed[1]!;
      pending.delete(pid);
    }
    const call = /^(\w+)\((.*)\)\s+=\s+(-?\d+)/.exec(whole);
    if (call) calls.push({ name: call[1]!, args: call[2]!, result: Number(call[3]) });
  }
  return calls;
}

/** Whether the folder was opened and that descriptor synced after the object's name was put in it. */
function folderSyncedAfterNaming(calls: Call[], folder: string, object: string): boolean {
  const named = calls.findIndex(({ name, args, result }) => /^(rename|link)/.test(name) && result === 0 && args.includes(`"${object}"`));
  if (named < 0) throw new Error(`no rename or link to ${object} was traced`);
  return folderSyncedIn(calls.slice(named + 1), folder);
}

/** Whether the folder holding `made` was opened and that descriptor synced after `made` was made. */
function parentSyncedAfterMaking(calls: Call[], made: string): boolean {
  const madeAt = calls.findIndex(({ name, args, result }) => /^mkdir/.test(name) && result === 0 && args.includes(`"${made}"`));
  if (madeAt < 0) throw new Error(`no mkdir of ${made} was traced`);
  return folderSyncedIn(calls.slice(madeAt + 1), dirname(made));
}

function folderSyncedIn(calls: Call[], folder: string): boolean {
  const opened = new Set<number>();
  const folderArgument = new RegExp(`"${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/?"`);
  for (const { name, args, result } of calls) {
    if (name === 'openat' && result >= 0 && folderArgument.test(args)) opened.add(result);
    if ((name === 'fsync' || name === 'fdatasync') && result === 0 && opened.has(Number(args))) return true;
  }
  return false;
}

describe('a folder store put survives a power loss', { skip: traceable ? false : 'strace cannot trace here' }, () => {
  it('syncs the folder after moving the object into it: a plain put, a put if absent, and a put if it holds what was read', async () => {
    const root = join(work, 'store');
    const script = `
      import { FolderStore } from ${JSON.stringify(folderStore)};
      const store = new FolderStore(${JSON.stringify(root)});
      const bytes = (text) => new TextEncoder().encode(text);
      await store.put('plain/object.bin', bytes('one'));
      await store.put('absent/object.bin', bytes('one'), { ifAbsent: true });
      await store.put('holds/object.bin', bytes('one'));
      await store.put('holds/object.bin', bytes('two'), { ifHolds: bytes('one') });
    `;
    const calls = await traced(script);
    for (const folder of ['plain', 'absent']) assert.ok(folderSyncedAfterNaming(calls, join(root, folder), join(root, folder, 'object.bin')), `${folder}: the folder was not synced after the object was named in it`);
    const holds = calls.filter(({ name, args }) => /^rename/.test(name) && args.includes(`"${join(root, 'holds', 'object.bin')}"`));
    assert.equal(holds.length, 2);
    assert.ok(folderSyncedAfterNaming(calls.slice(calls.indexOf(holds[1]!)), join(root, 'holds'), join(root, 'holds', 'object.bin')), 'holds: the folder was not synced after the conditional write');
  });

  it('syncs the folder holding each folder a put made (a new day\'s), and syncs nothing more when the folder was there', async () => {
    const root = join(work, 'days');
    const day = join(root, 'shards', 'REFC', '2026', '11');
    const put = (key: string) => `
      import { FolderStore } from ${JSON.stringify(folderStore)};
      await new FolderStore(${JSON.stringify(root)}).put(${JSON.stringify(key)}, new TextEncoder().encode('rows'));
    `;
    const first = await traced(put('shards/REFC/2026/11/a.arrow'));
    for (const made of [root, join(root, 'shards'), join(root, 'shards', 'REFC'), join(root, 'shards', 'REFC', '2026'), day]) {
      assert.ok(parentSyncedAfterMaking(first, made), `${made} was made, and the folder holding it not synced after`);
    }
    const next = await traced(put('shards/REFC/2026/11/b.arrow'));
    assert.ok(folderSyncedAfterNaming(next, day, join(day, 'b.arrow')));
    assert.equal(next.filter(({ name }) => name === 'fsync' || name === 'fdatasync').length, 2, 'a put into a folder that was there synced more than its file and its folder');
  });
});

describe('the file bus survives a power loss', { skip: traceable ? false : 'strace cannot trace here' }, () => {
  it("syncs the folder holding each folder it made for a new data folder's topic and group", async () => {
    const data = join(work, 'bus', 'data');
    const calls = await traced(`
      import { FileBus } from ${JSON.stringify(fileBus)};
      const bus = new FileBus(${JSON.stringify(data)});
      await bus.createTopic('embeddings');
      await bus.produce('embeddings', [{ key: new Uint8Array([1]), value: new Uint8Array([2]) }]);
      const consumer = bus.consumer({ group: 'g', topics: ['embeddings'], fromBeginning: true });
      for await (const record of consumer.records(AbortSignal.timeout(5000))) {
        await consumer.commit(record);
        break;
      }
      await consumer.close();
      await bus.close();
    `);
    for (const made of [join(work, 'bus'), data, join(data, 'topics'), join(data, 'topics', 'embeddings'), join(data, 'groups')]) {
      assert.ok(parentSyncedAfterMaking(calls, made), `${made} was made, and the folder holding it not synced after`);
    }
  });
});

describe('two puts of one process into the same new folder at once (a new day\'s: backfill --concurrency puts analyses at once)', () => {
  it('each resolves only once the folder holding the new folder is synced, whichever put made it', async () => {
    const root = await mkdtemp(join(work, 'together-'));
    const real = { open: fs.open };
    const synced = new Set<string>();
    // The sync of the store's folder (which holds the new one) made slow, as under load: a put that does not wait for it resolves before it.
    fs.open = (async (...args: Parameters<typeof fs.open>) => {
      const [path, flags] = args;
      if (path === root && flags === 'r') await sleep(300);
      const handle = await real.open(...args);
      if (flags === 'r' && typeof path === 'string') {
        const sync = handle.sync.bind(handle);
        handle.sync = async () => {
          await sync();
          synced.add(path);
        };
      }
      return handle;
    }) as typeof fs.open;
    syncBuiltinESMExports();
    try {
      const store = new FolderStore(root);
      const unsynced: string[] = [];
      await Promise.all(['day/a.bin', 'day/b.bin'].map((key) => store.put(key, new TextEncoder().encode(key)).then(() => {
        if (!synced.has(root)) unsynced.push(key);
      })));
      assert.deepEqual(unsynced, [], 'a put resolved while the new folder day/ was not yet on disk (its parent unsynced)');
    } finally {
      Object.assign(fs, real);
      syncBuiltinESMExports();
    }
  });
});

describe('a file system that cannot sync a folder (some FUSE and network file systems answer EINVAL)', () => {
  it('takes puts, new folders included, and reads them back; an error other than those fails the put', async () => {
    const root = await mkdtemp(join(work, 'no-folder-sync-'));
    const real = { open: fs.open };
    let code = 'EINVAL';
    fs.open = (async (...args: Parameters<typeof fs.open>) => {
      const handle = await real.open(...args);
      if (args[1] === 'r') {
        handle.sync = async () => {
          throw Object.assign(new Error(`${code}: fsync of a folder`), { code });
        };
      }
      return handle;
    }) as typeof fs.open;
    syncBuiltinESMExports();
    try {
      const store = new FolderStore(root);
      await store.put('new/day/a.bin', new TextEncoder().encode('a'));
      assert.equal(new TextDecoder().decode(await store.get('new/day/a.bin')), 'a');
      code = 'EIO';
      await assert.rejects(store.put('new/day/b.bin', new TextEncoder().encode('b')), /EIO: fsync of a folder/);
    } finally {
      Object.assign(fs, real);
      syncBuiltinESMExports();
    }
  });
});
