import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { openModel } from '../../model/open.js';
import { saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from './fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-pinned-'));
after(() => rmSync(work, { recursive: true, force: true }));
before(() => selectBackend('cpu', 'inference', silentLogger));

describe('a pinned model version (embed and run --version) that the store does not have', () => {
  it('is refused naming the version, the store and the versions it has, and how to list them', async () => {
    const store = new FolderStore(join(work, 'models'));
    await saveVersion(store, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'v1' });
    await assert.rejects(openModel(store, 'v2', silentLogger), (error: Error) => {
      assert.equal(error.message, `no model version v2 in ${store.url} (its versions: v1; hrrr-embed model list --models ${store.url} lists them)`);
      return true;
    });
  });

  it('in a store with none, says it has none', async () => {
    const store = new FolderStore(join(work, 'empty'));
    await assert.rejects(openModel(store, 'v1', silentLogger), new RegExp(`^Error: no model version v1 in ${store.url} \\(it has none; `));
  });
});
