import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode as decodePng } from 'fast-png';
import { lossCurvePicture } from '../../training/loss-curve.js';

describe('the loss curve picture', () => {
  it('draws a run of 500,000 steps, checkpointed every step, with the loss range it spans in its text', () => {
    const steps = 500_000;
    const trainLoss = Array.from({ length: steps }, (_, i) => 1 / (1 + i));
    const heldOutLoss = Array.from({ length: steps }, (_, i) => ({ step: i + 1, loss: 2 / (1 + i) }));
    const png = decodePng(lossCurvePicture(trainLoss, heldOutLoss));
    assert.deepEqual([png.width, png.height], [800, 400]);
    assert.match(png.text.Description!, new RegExp(`steps 0 to ${steps} \\(x\\); loss ${(1 / steps).toPrecision(3)} to 2\\.00`));
  });
});
