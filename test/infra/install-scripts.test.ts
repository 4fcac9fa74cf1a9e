import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-install-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A PATH holding only these programs of the machine's. */
function pathWith(...programs: string[]): string {
  const bin = mkdtempSync(join(work, 'bin-'));
  for (const program of programs) {
    const found = spawnSync('bash', ['-c', `command -v ${program}`], { encoding: 'utf8' }).stdout.trim();
    assert.ok(found, program);
    symlinkSync(found, join(bin, program));
  }
  return bin;
}

describe('infra/install-python-venv.sh', () => {
  it('without python3: fails naming it and what to install, and makes no virtual environment', () => {
    const venv = join(work, 'venv');
    const result = spawnSync(join(repoRoot, 'infra', 'install-python-venv.sh'), [venv, 'moto==5.2.5'], { encoding: 'utf8', env: { PATH: pathWith('bash', 'dirname') } });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /^install-python-venv: .*python3.*\n$/);
    assert.match(result.stderr, /python3-venv/);
    assert.equal(existsSync(venv), false);
  });
});
