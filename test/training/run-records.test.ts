import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FolderStore } from '../../store/folder.js';
import { runRecords } from '../../training/checkpoints.js';

const folders: string[] = [];
after(() => Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true }))));

const record = (pointer: object) => new TextEncoder().encode(JSON.stringify(pointer));
const finished = { modelId: 'v', promoted: false, reason: 'not better', candidateLoss: 1, currentLoss: 1, alertThreshold: 1, steps: 2, finalTrainLoss: 1 };

describe("the runs' records, read once as a trainer starts", () => {
  it('name the runs not finished, and when the last finished run was recorded (the newest of the finished records, not of the unfinished)', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-run-records-'));
    folders.push(folder);
    const store = new FolderStore(folder);
    assert.deepEqual(await runRecords(store), { unfinished: [] }, 'no runs: nothing finished');

    await store.put('training/older/latest.json', record({ step: 2, checkpoint: 'c', finished }));
    await store.put('training/newer/latest.json', record({ step: 2, checkpoint: 'c', finished }));
    await store.put('training/stopped/latest.json', record({ step: 1, checkpoint: 'training/stopped/checkpoints/000000001/' }));
    const at = (key: string, iso: string) => utimes(join(folder, key), new Date(iso), new Date(iso));
    await at('training/older/latest.json', '2026-11-20T03:00:00Z');
    await at('training/newer/latest.json', '2026-11-23T03:00:00Z');
    await at('training/stopped/latest.json', '2026-11-24T03:00:00Z');

    assert.deepEqual(await runRecords(store), { unfinished: ['stopped'], lastFinishedAt: new Date('2026-11-23T03:00:00Z') });
  });
});
