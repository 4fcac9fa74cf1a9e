import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { testCredentials } from '../../infra/s3-server.js';
import { listVersions, promotedVersion } from '../../model/versions.js';
import type { ObjectStore } from '../../store/object-store.js';
import { readPointer } from '../../training/checkpoints.js';
import { repoRoot } from '../paths.js';
import { storeKinds } from '../support/stores.js';

const setup = await storeKinds();
after(() => setup.stop());
const s3Env = { AWS_ENDPOINT_URL: setup.server.endpoint, AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const child = join(repoRoot, 'dist', 'test', 'training', 'crash-child.js');

interface Line {
  op?: string;
  key?: string;
  announced?: string;
  result?: { modelId: string; promoted: boolean; reason: string };
}

/** Runs crash-child.js (a 4-step run, a checkpoint every 2 steps) on the store; killed right after the first write `killAfter` matches, if given. */
async function runChild(location: string, killAfter?: string): Promise<{ lines: Line[]; killed: boolean }> {
  const args = [child, location, 'run-1', ...(killAfter ? [killAfter] : [])];
  try {
    const { stdout } = await promisify(execFile)(process.execPath, args, { env: { ...process.env, ...s3Env } });
    return { lines: parse(stdout), killed: false };
  } catch (error) {
    const { signal, stdout, stderr } = error as { signal?: string; stdout: string; stderr: string };
    assert.equal(signal, 'SIGKILL', stderr);
    return { lines: parse(stdout), killed: true };
  }
}

const parse = (stdout: string) => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line);

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const found = [];
  for await (const { key } of store.list(prefix)) found.push(key);
  return found;
}

/** Where a run is killed: right after the first write of its model store that the expression matches. */
const crashPoints = [
  { when: 'deleting the previous checkpoint, once the pointer has moved', killAfter: '^delete training/run-1/checkpoints/000000002/model\\.json$' },
  { when: "saving its candidate: the weights written, not the version's manifest", killAfter: '^put versions/[^/]+/weights\\.bin$' },
  // Whole and unjudged, with nothing promoted: no promoted.json to mark its deletion in, and it could be promoted by hand meanwhile.
  { when: "saving its candidate: the version's manifest written, not the judgement", killAfter: '^put versions/[^/]+/manifest\\.json$', keepsCandidate: true },
  { when: 'promoting: promoted.json written, not announced', killAfter: '^put promoted\\.json$' },
  { when: 'deleting its last checkpoint, once promoted', killAfter: '^delete training/run-1/checkpoints/000000004/model\\.json$' },
];

for (const kind of setup.kinds) {
  describe(`a retraining run killed with SIGKILL and run again: ${kind.name}`, () => {
    for (const { when, killAfter, keepsCandidate } of crashPoints) {
      it(`killed while ${when}: ${keepsCandidate ? 'its half-saved candidate kept for model prune, and one version' : 'one version'}, promoted and announced, and nothing ${keepsCandidate ? 'else ' : ''}of the run left behind`, async () => {
        const store = await kind.create();
        const location = store.url.startsWith('file://') ? decodeURIComponent(new URL(store.url).pathname) : store.url;
        const killed = await runChild(location, killAfter);
        assert.ok(killed.killed, 'the run was not killed');
        // Nothing resumes a finished run (a trainer resumes the unfinished ones), so nothing would delete what it left.
        if ((await readPointer(store, 'run-1'))?.finished) assert.deepEqual(await keys(store, 'training/run-1/checkpoints/'), [], 'a finished run left checkpoint objects');
        const resumed = await runChild(location);
        const result = resumed.lines.at(-1)?.result;
        assert.ok(result, 'the run again gave no result');
        assert.equal(result.promoted, true, result.reason);

        const abandoned = keepsCandidate ? (await listVersions(store)).filter((id) => id !== result.modelId) : [];
        assert.equal(abandoned.length, keepsCandidate ? 1 : 0);
        assert.deepEqual((await listVersions(store)).sort(), [result.modelId, ...abandoned].sort());
        assert.equal(await promotedVersion(store), result.modelId);
        assert.ok([...killed.lines, ...resumed.lines].some((line) => line.announced === result.modelId), 'the promotion was never announced');
        assert.deepEqual((await keys(store, 'versions/')).filter((key) => ![result.modelId, ...abandoned].some((id) => key.startsWith(`versions/${id}/`))), [], 'objects of another version');
        assert.deepEqual(await keys(store, 'training/run-1/checkpoints/'), [], "the run's checkpoints");
        assert.equal((await readPointer(store, 'run-1'))?.finished?.modelId, result.modelId);
      });
    }
  });
}
