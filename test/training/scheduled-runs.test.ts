import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { Schedule } from '../../training/schedule.js';
import { missedScheduledTime, readDoneThrough, recordDoneThrough, SCHEDULE_RECORD_KEY, startingTriggers } from '../../training/scheduled-runs.js';

const daily = Schedule.parse('0 3 * * *');
const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;

let work: string;
before(async () => (work = await mkdtemp(join(tmpdir(), 'hrrr-embed-scheduled-runs-'))));
after(() => rm(work, { recursive: true, force: true }));

describe('the scheduled time to catch up', () => {
  it('is the latest one missed, once, however many were missed', () => {
    assert.deepEqual(missedScheduledTime(daily, at('2026-11-20T03:00Z'), at('2026-11-25T10:00Z'), 240 * HOUR), { due: at('2026-11-25T03:00Z'), tooOld: false });
    assert.deepEqual(missedScheduledTime(daily, at('2026-11-24T03:00Z'), at('2026-11-25T03:00Z'), 24 * HOUR), { due: at('2026-11-25T03:00Z'), tooOld: false }, 'a time is due at its very second');
  });

  it('is none when the latest time is done, and too old past the window (0: always)', () => {
    assert.equal(missedScheduledTime(daily, at('2026-11-25T03:00Z'), at('2026-11-25T10:00Z'), 24 * HOUR), undefined);
    assert.equal(missedScheduledTime(daily, at('2026-11-25T05:00Z'), at('2026-11-26T02:59Z'), 24 * HOUR), undefined);
    assert.equal(missedScheduledTime(daily, at('2026-11-24T03:00Z'), at('2026-11-25T10:00Z'), 6 * HOUR)?.tooOld, true);
    assert.equal(missedScheduledTime(daily, at('2026-11-24T03:00Z'), at('2026-11-25T03:00:01Z'), 0)?.tooOld, true);
  });
});

describe('the triggers a trainer starts with', () => {
  const start = (models: FolderStore, now: string, unfinished: string[] = [], catchUpHours = 24) => startingTriggers({ models, schedule: daily, unfinished, catchUpHours, log: silentLogger, now: at(now) });

  it('the first trainer of a store catches up nothing and records its start; a later one catches up the time missed since, and once it is handled, no more', async () => {
    const models = new FolderStore(join(work, 'first'));
    assert.deepEqual(await start(models, '2026-11-24T10:00Z'), []);
    assert.deepEqual(await readDoneThrough(models), at('2026-11-24T10:00Z'));
    const [missed, ...others] = await start(models, '2026-11-25T04:00Z');
    assert.deepEqual(others, []);
    assert.equal(missed!.kind, 'schedule');
    assert.deepEqual(missed!.at, at('2026-11-25T03:00Z'));
    assert.deepEqual(await start(models, '2026-11-25T04:10Z').then((triggers) => triggers.length), 1, 'not handled yet (killed in its run): caught up again');
    await missed!.handled!();
    assert.deepEqual(await start(models, '2026-11-25T04:20Z'), []);
  });

  it('a missed run left unfinished (checkpointed) is resumed, not run a second time, and its handling records the time', async () => {
    const models = new FolderStore(join(work, 'unfinished'));
    await recordDoneThrough(models, daily, at('2026-11-24T03:00Z'));
    const triggers = await start(models, '2026-11-25T04:00Z', ['trainer-20261124T120000Z-request-0-3', 'trainer-20261125T030000Z']);
    assert.deepEqual(triggers.map(({ kind, runId }) => [kind, runId]), [['unfinished', 'trainer-20261124T120000Z-request-0-3'], ['unfinished', 'trainer-20261125T030000Z']]);
    await triggers[1]!.handled!();
    assert.deepEqual(await readDoneThrough(models), at('2026-11-25T03:00Z'));
  });

  it('a time older than --catch-up-hours is not caught up; the record never goes back', async () => {
    const models = new FolderStore(join(work, 'old'));
    await recordDoneThrough(models, daily, at('2026-11-20T03:00Z'));
    assert.deepEqual(await start(models, '2026-11-25T10:00Z', [], 6), []);
    await recordDoneThrough(models, daily, at('2026-11-25T03:00Z'));
    await recordDoneThrough(models, daily, at('2026-11-24T03:00Z'));
    assert.deepEqual(await readDoneThrough(models), at('2026-11-25T03:00Z'));
  });

  it('an unreadable record is an error naming it', async () => {
    const models = new FolderStore(join(work, 'bad'));
    await models.put(SCHEDULE_RECORD_KEY, new TextEncoder().encode('{"doneThrough":"yesterday"}'));
    await assert.rejects(start(models, '2026-11-25T10:00Z'), /training\/schedule\.json: doneThrough "yesterday" is not a time/);
  });

  it('a record that is not JSON (cut short, edited by hand) is refused as one, with the way out: delete it', async () => {
    const models = new FolderStore(join(work, 'not-json'));
    await models.put(SCHEDULE_RECORD_KEY, new TextEncoder().encode('{"doneThrough":"2026-11-25T03:00:00.000Z"'));
    await assert.rejects(start(models, '2026-11-25T10:00Z'), /training\/schedule\.json: not JSON \(.*\) \(delete the file to start the record again from now\)/);
  });
});
