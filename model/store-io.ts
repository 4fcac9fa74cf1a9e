import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import type { ObjectStore } from '../store/object-store.js';

const MODEL_JSON = 'model.json';
const WEIGHTS = 'weights.bin';

/**
 * A tfjs IO handler that keeps a model in an object store, as tfjs's own file format: PREFIX
 * model.json (topology and weights manifest) and PREFIX weights.bin (all weights in one object,
 * written first, so a model.json never names weights that are not there yet). model.json's
 * userDefinedMetadata holds the weights' SHA-256, checked on load when present (models saved
 * before it was added load unchecked).
 */
export function objectStoreIO(store: ObjectStore, prefix: string): tf.io.IOHandler {
  return {
    async save(artifacts) {
      const topology = artifacts.modelTopology;
      if (topology === undefined || topology instanceof ArrayBuffer) throw new Error('only a model with a JSON topology (a LayersModel) can be saved');
      const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? []);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: topology,
        weightsManifest: [{ paths: [WEIGHTS], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.format === undefined ? {} : { format: artifacts.format }),
        ...(artifacts.generatedBy === undefined ? {} : { generatedBy: artifacts.generatedBy }),
        ...(artifacts.convertedBy === undefined ? {} : { convertedBy: artifacts.convertedBy }),
        ...(artifacts.trainingConfig === undefined ? {} : { trainingConfig: artifacts.trainingConfig }),
        userDefinedMetadata: { ...artifacts.userDefinedMetadata, weightsSha256: sha256(new Uint8Array(weights)) },
      };
      await store.put(prefix + WEIGHTS, new Uint8Array(weights), { contentType: 'application/octet-stream' });
      await store.put(prefix + MODEL_JSON, new TextEncoder().encode(JSON.stringify(modelJson)), { contentType: 'application/json' });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load() {
      const modelJson = (await readJson(store, prefix + MODEL_JSON)) as tf.io.ModelJSON;
      if (typeof modelJson !== 'object' || modelJson === null || !Array.isArray(modelJson.weightsManifest)) throw new Error(`${store.url}/${prefix}${MODEL_JSON}: no weightsManifest`);
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const paths = manifest.flatMap((group) => group.paths);
        // Checked before reading: each path is read whole, all at once, wherever it leads.
        if (paths.length !== 1 || paths[0] !== WEIGHTS) {
          const named = `${paths.length} weight file${paths.length === 1 ? '' : 's'} (${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ', ...' : ''})`;
          throw new Error(`${store.url}/${prefix}${MODEL_JSON}: its weightsManifest names ${named}; a model here keeps its weights in ${WEIGHTS} alone`);
        }
        const parts = await Promise.all(paths.map((path) => store.get(prefix + path)));
        // tfjs would build tensors from whatever bytes there are: a short object fails far from its cause, a long one loads.
        const size = parts.reduce((sum, part) => sum + part.length, 0);
        const expected = specs.reduce((sum, spec) => sum + weightBytes(spec), 0);
        if (size !== expected) throw new Error(`${store.url}/${prefix}${paths.join(', ')}: ${size} bytes, its ${MODEL_JSON}'s weights take ${expected}`);
        const saved = (modelJson.userDefinedMetadata as { weightsSha256?: unknown } | undefined)?.weightsSha256;
        if (saved !== undefined) {
          const loaded = sha256(...parts);
          if (loaded !== saved) throw new Error(`${store.url}/${prefix}${paths.join(', ')}: SHA-256 ${loaded}, its ${MODEL_JSON} says ${String(saved)}: the object is corrupt or was replaced`);
        }
        return [specs, tf.io.CompositeArrayBuffer.join(parts.map((part) => part.slice().buffer as ArrayBuffer))];
      });
    },
  };
}

/** The JSON of an object; the error of one that is not JSON names it. */
export async function readJson(store: ObjectStore, key: string): Promise<unknown> {
  const text = new TextDecoder().decode(await store.get(key));
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${store.url}/${key}: not JSON (${(error as Error).message})`, { cause: error });
  }
}

const bytesPerValue: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, float16: 2, uint16: 2, uint8: 1 };

function weightBytes(spec: tf.io.WeightsManifestEntry): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = bytesPerValue[dtype];
  if (bytes === undefined) throw new Error(`weight ${spec.name}: values of type ${dtype} cannot be stored here`);
  return spec.shape.reduce((product, length) => product * length, bytes);
}

function sha256(...parts: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}
