import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

/** Runs `npm run bench -- ARGS` as the compiled entry point does. */
function bench(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', 'main.js'), ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env } });
}

/** A mistake on the command line: exit 2, one line naming it, then the benchmark's usage; no stack trace. */
function assertUsageError(name: string, args: string[], mentions: RegExp, env: NodeJS.ProcessEnv = {}) {
  const result = bench([name, ...args], env);
  assert.equal(result.status, 2, `${name} ${args.join(' ')}: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.match(lines[0]!, new RegExp(`^bench ${name}: `));
  assert.match(lines[0]!, mentions);
  assert.match(lines[1]!, new RegExp(`^usage: npm run bench -- ${name}\\b`));
  assert.equal(lines.length, 2, result.stderr);
  assert.equal(result.stdout, '');
}

describe('npm run bench', () => {
  it('lists every benchmark with its usage on --help', () => {
    const result = bench(['--help']);
    assert.equal(result.status, 0, result.stderr);
    for (const name of ['decode', 'backfill', 'consumer', 'bus', 'model', 'shards', 'compaction', 'train', 'folder-put']) assert.match(result.stdout, new RegExp(`^  ${name} .*\\n    npm run bench -- ${name}\\b`, 'm'), name);
  });

  for (const name of ['decode', 'backfill', 'consumer', 'bus', 'model', 'shards', 'compaction', 'train', 'folder-put']) {
    it(`${name}: an unknown option is a one-line usage error naming it`, () => assertUsageError(name, ['--bogus'], /--bogus/));
  }

  it('consumer and train: an unknown --device is a one-line usage error naming the devices', () => {
    for (const name of ['consumer', 'train']) assertUsageError(name, ['--device', 'tpu'], /"tpu".*known: auto/);
  });

  it('compaction --days -1: a value that begins with a dash, after a space, is a one-line usage error naming the option and the value', () => assertUsageError('compaction', ['--days', '-1'], /^bench compaction: --days -1: .*--days=-1/));

  it('folder-put: a size that is no whole number of bytes is a usage error', () => assertUsageError('folder-put', ['--sizes', '1024,7MB'], /--sizes/));

  it('shards: a --match that is no regular expression is a usage error', () => assertUsageError('shards', ['--match', '('], /--match/));

  it('shards: a FILE that cannot be read is a usage error naming it', () => assertUsageError('shards', ['/nonexistent/hrrr.grib2'], /\/nonexistent\/hrrr\.grib2/));

  it('compaction: without the shared HRRR file, a usage error naming the file and the variable that points at it', () =>
    assertUsageError('compaction', ['--days', '1'], /\/nonexistent-shared-data\/hrrr\/.*HRRR_EMBED_SHARED_DATA/, { HRRR_EMBED_SHARED_DATA: '/nonexistent-shared-data' }));
});
