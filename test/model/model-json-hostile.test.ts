import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { loadVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from './fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-model-json-'));
after(() => rmSync(work, { recursive: true, force: true }));
before(() => selectBackend('cpu', 'inference', silentLogger));

interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

/** A saved version of the small model whose model.json's layers `edit` changes; its weights stay as saved. */
async function versionWithTopology(name: string, edit: (layers: LayerJson[]) => void): Promise<FolderStore> {
  const store = new FolderStore(join(work, name));
  await saveVersion(store, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'v1' });
  const modelJson = JSON.parse(new TextDecoder().decode(await store.get('versions/v1/model.json'))) as { modelTopology: { config: { layers: LayerJson[] } } };
  edit(modelJson.modelTopology.config.layers);
  await store.put('versions/v1/model.json', new TextEncoder().encode(JSON.stringify(modelJson)));
  return store;
}

describe("a model.json whose layers without weights are not those of its manifest's hyperparameters", () => {
  it('upsampling 1000 times instead of 4 is refused at load, naming model.json and both shapes: it loaded, and each field then made a reconstruction of 8000 x 16000', async () => {
    const store = await versionWithTopology('upsampled', (layers) => {
      layers.find((layer) => layer.class_name === 'UpSampling2D')!.config.size = [1000, 1000];
    });
    await assert.rejects(loadVersion(store, 'v1'), /versions\/v1\/model\.json: its layers make the reconstruction of the cropped field \[8000,16000\], its manifest's hyperparameters \[32,64\]/);
  });

  it('padding the reconstruction by 20,000 points is refused the same way: it loaded, and each picture would have been 40032 x 40064', async () => {
    const store = await versionWithTopology('padded', (layers) => {
      layers.find((layer) => layer.class_name === 'ZeroPadding2D')!.config.padding = [[20_000, 20_000], [20_000, 20_000]];
    });
    await assert.rejects(loadVersion(store, 'v1'), /versions\/v1\/model\.json: its layers make the reconstruction of the whole field \[40032,40064\], its manifest's hyperparameters \[38,70\]/);
  });
});
