import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-resume-'));
after(() => rmSync(work, { recursive: true, force: true }));
const child = join(repoRoot, 'dist', 'test', 'training', 'retrain-child.js');

interface Line {
  step?: number;
  loss?: number;
  checkpoint?: { step: number };
  result?: { resumedAt: number; steps: number; promoted: boolean };
}

/** Runs the child; `kill(line)` true sends it SIGKILL at once. */
function runChild(folder: string, kill: (line: Line) => boolean = () => false): Promise<{ lines: Line[]; signal: NodeJS.Signals | null }> {
  const process_ = spawn(process.execPath, [child, folder, 'run'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Line[] = [];
  let pending = '';
  process_.stdout.on('data', (chunk) => {
    pending += chunk;
    for (let end; (end = pending.indexOf('\n')) >= 0; pending = pending.slice(end + 1)) {
      const line = JSON.parse(pending.slice(0, end)) as Line;
      lines.push(line);
      if (kill(line)) process_.kill('SIGKILL');
    }
  });
  return new Promise((resolve) => process_.on('close', (_, signal) => resolve({ lines, signal })));
}

const losses = (lines: Line[]) => new Map(lines.filter((line) => line.step !== undefined).map((line) => [line.step!, line.loss!]));

describe('a retraining run killed with SIGKILL', () => {
  it('resumes from its last checkpoint: the step count continues, and so does the loss curve, step for step', async () => {
    const [reference, killed] = await Promise.all([runChild(join(work, 'reference')), runChild(join(work, 'killed'), (line) => line.step === 27)]);
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(!killed.lines.some((line) => line.result));
    assert.deepEqual(killed.lines.filter((line) => line.checkpoint).map((line) => line.checkpoint!.step), [20]);

    const resumed = await runChild(join(work, 'killed'));
    const result = resumed.lines.at(-1)!.result!;
    assert.equal(result.resumedAt, 20);
    assert.equal(result.steps, 60);
    const steps = resumed.lines.filter((line) => line.step !== undefined).map((line) => line.step);
    assert.deepEqual([steps[0], steps.at(-1), steps.length], [21, 60, 40]);

    // Same weights, same Adam moments and step count, same place in the shuffled stream: the resumed
    // run's losses are those of the run that was never killed. Fresh Adam moments would jump at step 21.
    const expected = losses(reference.lines);
    for (const [step, loss] of losses(resumed.lines)) assert.ok(Math.abs(loss - expected.get(step)!) <= 1e-6 * Math.max(1, expected.get(step)!), `step ${step}: ${loss} resumed, ${expected.get(step)} uninterrupted`);
  });
});
