import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FolderStore } from '../../store/folder.js';
import { repoRoot } from '../paths.js';

const folders: string[] = [];
after(() => Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true }))));

/** Runs put-child.js, and SIGKILLs it as soon as its temporary file is in the folder: a put killed mid-write. */
async function putAndKill(folder: string, key: string): Promise<string> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'test', 'store', 'put-child.js'), folder, key, '64'], { stdio: 'inherit' });
  const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_status, signal) => resolve(signal)));
  const where = join(folder, ...key.split('/').slice(0, -1));
  for (let tries = 0; tries < 2000; tries++) {
    const temporary = (await readdir(where).catch(() => [])).find((name) => name.includes('.partial-'));
    if (temporary) {
      child.kill('SIGKILL');
      assert.equal(await ended, 'SIGKILL', 'the put ended before it could be killed');
      return join(where, temporary);
    }
    await sleep(5);
  }
  child.kill('SIGKILL');
  throw new Error('no temporary file seen');
}

describe('a folder store after a put killed mid-write', () => {
  it('lists no object for its temporary file, and the next listing of its folder an hour on removes it', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-folder-crash-'));
    folders.push(folder);
    const store = new FolderStore(folder);
    await store.put('training/run-1/checkpoints/000000002/state.json', new TextEncoder().encode('{}\n'));
    const temporary = await putAndKill(folder, 'training/run-1/checkpoints/000000002/weights.bin');

    const keys = async () => {
      const found = [];
      for await (const { key } of store.list('training/')) found.push(key);
      return found;
    };
    assert.deepEqual(await keys(), ['training/run-1/checkpoints/000000002/state.json']);
    // Still being written, as far as anyone can tell: left alone.
    assert.ok((await readdir(join(temporary, '..'))).some((name) => temporary.endsWith(name)));

    const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(temporary, hoursAgo, hoursAgo);
    assert.deepEqual(await keys(), ['training/run-1/checkpoints/000000002/state.json']);
    assert.deepEqual(await readdir(join(temporary, '..')), ['state.json'], 'the killed put left its temporary file (64 MiB) for good');
  });
});

describe('a folder store after a put killed mid-write in a folder no one lists (progress/)', () => {
  it('removes its temporary file at the next put into that folder an hour on, and keeps a live writer\'s', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-folder-unlisted-'));
    folders.push(folder);
    const temporary = await putAndKill(folder, 'progress/run.json');
    const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(temporary, hoursAgo, hoursAgo);
    const live = join(folder, 'progress', `backfill.json.partial-${process.pid}-live`);
    await writeFile(live, 'being written');

    // What a consumer does with its state store from then on: the progress record rewritten, the lease's folder listed.
    const store = new FolderStore(folder);
    for (let n = 0; n < 3; n++) await store.put('progress/run.json', new TextEncoder().encode(`{"n":${n}}\n`));
    for await (const _ of store.list('progress/run-lease/'));

    assert.deepEqual((await readdir(join(folder, 'progress'))).sort(), ['backfill.json.partial-' + process.pid + '-live', 'run.json'], 'the killed put\'s temporary file (64 MiB) removed, the live one kept');
  });
});

describe('a folder store after a process was killed inside a compare-and-swap, holding the object\'s lock', () => {
  it('lists no object for the lock, waits for it while it may be held, and breaks it once older than 30 s: a conditional write then goes through', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-folder-lock-'));
    folders.push(folder);
    const store = new FolderStore(folder);
    await store.put('promoted.json', new TextEncoder().encode('old'));
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'test', 'store', 'lock-child.js'), join(folder, 'promoted.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (data: Buffer) => data.toString().includes('held') && resolve());
      child.on('close', () => reject(new Error('the lock holder ended before it held the lock')));
    });
    const ended = new Promise((resolve) => child.on('close', resolve));
    child.kill('SIGKILL');
    await ended;
    assert.deepEqual(await readdir(folder), ['promoted.json', 'promoted.json.partial-lock']);
    const keys = [];
    for await (const { key } of store.list('')) keys.push(key);
    assert.deepEqual(keys, ['promoted.json']);

    let written = false;
    const writing = store.put('promoted.json', new TextEncoder().encode('new'), { ifHolds: new TextEncoder().encode('old') }).then(() => (written = true));
    await sleep(200);
    assert.equal(written, false, 'wrote past a lock that may still be held');
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(join(folder, 'promoted.json.partial-lock'), longAgo, longAgo);
    await writing;
    assert.equal(new TextDecoder().decode(await store.get('promoted.json')), 'new');
    assert.ok(!(await readdir(folder)).includes('promoted.json.partial-lock'));
  });
});

describe('a file in a folder store whose name only holds ".partial-"', () => {
  it('is an object like any other: listed, and never removed by a listing, also in a folder linked from outside', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-folder-partial-'));
    const elsewhere = await mkdtemp(join(tmpdir(), 'hrrr-embed-folder-linked-'));
    folders.push(folder, elsewhere);
    // A mirror's own file, and one in a folder someone linked into the mirror: no put made either.
    await mkdir(join(folder, 'notes'));
    const own = join(folder, 'notes', 'storm.partial-review.txt');
    const linked = join(elsewhere, 'report.partial-2019.csv');
    await writeFile(own, 'mine');
    await writeFile(linked, 'not the store\'s');
    await symlink(elsewhere, join(folder, 'linked'));
    const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(own, hoursAgo, hoursAgo);
    await utimes(linked, hoursAgo, hoursAgo);

    const keys = [];
    for await (const { key } of new FolderStore(folder).list('')) keys.push(key);

    assert.deepEqual(keys, ['linked/report.partial-2019.csv', 'notes/storm.partial-review.txt']);
    assert.deepEqual(await readdir(elsewhere), ['report.partial-2019.csv'], 'a listing removed a file outside the store');
    assert.deepEqual(await readdir(join(folder, 'notes')), ['storm.partial-review.txt']);
  });
});
