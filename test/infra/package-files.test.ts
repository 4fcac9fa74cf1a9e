import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../paths.js';

/** The paths `npm pack` would put in the package, as its --dry-run lists them. */
async function packedFiles(): Promise<Set<string>> {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, maxBuffer: 1 << 24 });
  const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
  return new Set(pack!.files.map(({ path }) => path));
}

/** The compiled modules `entry` loads, itself included, following relative imports (static and dynamic). */
function relativeImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(join(repoRoot, file), 'utf8');
    for (const [, specifier] of source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) pending.push(normalize(join(dirname(file), specifier!)));
  }
  return seen;
}

describe('the npm package', () => {
  it('holds no compiled tests, benchmarks or development tools, and every module the command line loads, with its schemas', async () => {
    const packed = await packedFiles();
    const extra = [...packed].filter((path) => /^dist\/(test|bench|infra)\//.test(path));
    assert.deepEqual(extra, []);
    const missing = [...relativeImports('dist/cli/main.js')].filter((path) => !packed.has(path));
    assert.deepEqual(missing, []);
    assert.ok(packed.has('schemas/embeddings.value.avsc') && packed.has('schemas/past/embeddings.value.1.avsc') && packed.has('package.json'));
  });
});
