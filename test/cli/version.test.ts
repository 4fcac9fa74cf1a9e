import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const node = (root: string, script: string, args: string[]) => spawnSync(process.execPath, [join(root, 'dist', script), ...args], { encoding: 'utf8' });

/**
 * A build without its git checkout, as the container image and the npm package are: package.json,
 * schemas/ and dist/ (its tests left out), its dependencies where Node finds them.
 */
const installed = mkdtempSync(join(tmpdir(), 'hrrr-embed-version-'));
after(() => rmSync(installed, { recursive: true, force: true }));
cpSync(join(repoRoot, 'package.json'), join(installed, 'package.json'));
cpSync(join(repoRoot, 'schemas'), join(installed, 'schemas'), { recursive: true });
cpSync(join(repoRoot, 'dist'), join(installed, 'dist'), { recursive: true, filter: (path) => !path.startsWith(join(repoRoot, 'dist', 'test')) });
symlinkSync(join(repoRoot, 'node_modules'), join(installed, 'node_modules'));

describe('hrrr-embed --version', () => {
  it("in a git checkout: one JSON line with package.json's version and the checkout's HEAD; -V the same", () => {
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim();
    for (const flag of ['--version', '-V']) {
      const result = node(repoRoot, 'cli/main.js', [flag]);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { version, commit: head }, flag);
    }
  });

  it('without git: the commit recorded at build time, unknown where none was, and a recorded value that is no commit refused', () => {
    const versionOf = () => JSON.parse(node(installed, 'cli/main.js', ['--version']).stdout) as unknown;
    assert.deepEqual(versionOf(), { version, commit: 'unknown' }, 'nothing recorded');

    // What the Dockerfile does with its COMMIT build argument.
    const commit = '0123456789abcdef0123456789abcdef01234567';
    assert.equal(node(installed, 'infra/record-build.js', [commit]).status, 0);
    assert.deepEqual(versionOf(), { version, commit });

    const wrong = node(installed, 'infra/record-build.js', ['main; rm -rf /']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /record-build: "main; rm -rf \/" is not a git commit/);
    assert.deepEqual(versionOf(), { version, commit }, 'the recorded commit kept');

    // No argument and no checkout: a build without its commit never fails for it.
    assert.equal(node(installed, 'infra/record-build.js', []).status, 0);
    assert.deepEqual(versionOf(), { version, commit: 'unknown' });

    writeFileSync(join(installed, 'build-info.json'), '{"commit": ');
    assert.deepEqual(versionOf(), { version, commit: 'unknown' }, 'a damaged file');
  });
});
