import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TrainerReadiness } from '../../runtime/trainer-readiness.js';

describe("the trainer's readiness", () => {
  it('is not ready while starting or waiting for the lease, ready once holding it, and not ready again from a stop on', () => {
    const readiness = new TrainerReadiness();
    assert.deepEqual(readiness.check(), { ready: false, reason: 'starting: the backend, the bus, then the trainer lease of this model store' });
    readiness.waiting('host pid 7 ab12');
    assert.deepEqual(readiness.check(), { ready: false, reason: 'waiting for the trainer lease of this model store, held by host pid 7 ab12' });
    readiness.waiting(undefined);
    assert.deepEqual(readiness.check(), { ready: true });
    readiness.stopping();
    assert.deepEqual(readiness.check(), { ready: false, reason: 'stopping: checkpointing the run under way, if any' });
  });

  it('failing says the first cause, over a stop (a lost lease stops the run, then fails)', () => {
    const readiness = new TrainerReadiness();
    readiness.waiting(undefined);
    readiness.stopping();
    readiness.failing(new Error('lost the trainer lease: a later trainer took it'));
    readiness.failing(new Error('a later error'));
    assert.deepEqual(readiness.check(), { ready: false, reason: 'failing, shutting down: lost the trainer lease: a later trainer took it' });
  });
});
