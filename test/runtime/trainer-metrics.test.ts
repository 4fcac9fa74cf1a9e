import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { TrainerMetrics } from '../../runtime/trainer-metrics.js';
import { Schedule } from '../../training/schedule.js';

async function values(registry: Registry): Promise<Record<string, number>> {
  const metrics = await registry.getMetricsAsJSON();
  return Object.fromEntries(metrics.flatMap(({ name, values }) => values.map(({ labels, value }) => [labels.outcome === undefined ? name : `${name}{${labels.outcome}}`, value])));
}

describe("the trainer's metrics", () => {
  it('count a stopped and a failed run without a success, then a run not promoted as one, and say the next scheduled time from the clock', async () => {
    const registry = new Registry();
    let now = Date.parse('2026-11-25T02:30:00Z');
    const metrics = new TrainerMetrics(registry, { schedule: Schedule.parse('0 3 * * *'), clock: () => now });
    metrics.runStarted();
    metrics.progress({ step: 1, steps: 3, loss: 0.5 });
    metrics.runEnded('stopped');
    metrics.runStarted();
    metrics.runEnded('failed');
    let seen = await values(registry);
    assert.equal(seen['hrrr_embed_training_runs_total{stopped}'], 1);
    assert.equal(seen['hrrr_embed_training_runs_total{failed}'], 1);
    assert.equal(seen.hrrr_embed_training_last_success_timestamp_seconds, 0);
    assert.equal(seen.hrrr_embed_training_next_scheduled_timestamp_seconds, Date.parse('2026-11-25T03:00:00Z') / 1000);

    now = Date.parse('2026-11-25T03:10:00Z');
    metrics.runStarted();
    metrics.progress({ step: 2, steps: 3, loss: 0.25 });
    metrics.progress({ step: 3, steps: 3, loss: 0.125 });
    metrics.runEnded('not-promoted');
    seen = await values(registry);
    assert.equal(seen['hrrr_embed_training_runs_total{not-promoted}'], 1);
    assert.equal(seen['hrrr_embed_training_runs_total{promoted}'], 0);
    assert.equal(seen.hrrr_embed_training_steps_total, 3);
    assert.equal(seen.hrrr_embed_training_loss, 0.125);
    assert.equal(seen.hrrr_embed_training_in_progress, 0);
    assert.equal(seen.hrrr_embed_training_last_success_timestamp_seconds, now / 1000);
    assert.equal(seen.hrrr_embed_training_next_scheduled_timestamp_seconds, Date.parse('2026-11-26T03:00:00Z') / 1000);
  });

  it("take a restarted trainer's last success from the model store's run records, and never move it back", async () => {
    const registry = new Registry();
    let now = Date.parse('2026-11-25T02:30:00Z');
    const metrics = new TrainerMetrics(registry, { schedule: Schedule.parse('0 3 * * *'), clock: () => now });
    metrics.finishedBefore(new Date('2026-11-24T03:20:00Z'));
    assert.equal((await values(registry)).hrrr_embed_training_last_success_timestamp_seconds, Date.parse('2026-11-24T03:20:00Z') / 1000, 'the last run before this process');

    now = Date.parse('2026-11-25T03:10:00Z');
    metrics.runStarted();
    metrics.runEnded('promoted');
    metrics.finishedBefore(new Date('2026-11-24T03:20:00Z'));
    assert.equal((await values(registry)).hrrr_embed_training_last_success_timestamp_seconds, now / 1000, "this process's own later run stays the last");
  });
});
