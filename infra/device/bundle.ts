/**
 * The benchmarks as one folder that runs with Node.js alone, to carry to the lent GPU machine
 * (no npm, no network, at most 64 MiB a call; see ../shared/gpu/README.md): bench.mjs, bundled
 * by esbuild from the compiled bench/main.ts, and beside it what a bundle cannot hold: Dawn's
 * native WebGPU binding for linux-x64, the .wasm binaries of tfjs-backend-wasm and of zstd, and
 * the Avro schemas with a package.json (runtime/package-root.ts takes the nearest one for the
 * package's root, where schemas/ is) and build-info.json (the commit it was bundled from).
 */
import { build, formatMessages, type Message, type Plugin } from 'esbuild';
import { copyFile, cp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_INFO_FILE, buildInfo } from '../../runtime/build-info.js';

/** The call to the device machine carries at most 64 MiB; this leaves room for the command's own files. */
export const DEVICE_LIMIT_BYTES = 60 * 1024 ** 2;

export const BUNDLE_FILE = 'bench.mjs';

const here = dirname(fileURLToPath(import.meta.url));
/** Compiled, beside this file: bench/main.ts with a word on what the bundle leaves out. */
const ENTRY = join(here, 'bench-entry.js');
/** The repository root (this runs compiled, from dist/infra/device/). */
const repoRoot = join(here, '..', '..', '..');

/**
 * Left to Node's own resolution at run time: `webgpu` loads dawn.node from its own folder, so it
 * is carried as a package (below); the libtensorflow bindings are optional and not installed,
 * and their failing import is how the bench reports "tensorflow: unavailable".
 */
const EXTERNAL = ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

/** Files of installed packages copied into the bundle's folder: package, path in it, path in the folder. */
const CARRIED: Array<[pkg: string, from: string, to: string]> = [
  ['webgpu', 'package.json', 'node_modules/webgpu/package.json'],
  ['webgpu', 'index.js', 'node_modules/webgpu/index.js'],
  ['webgpu', 'dist/linux-x64/dawn.node', 'node_modules/webgpu/dist/linux-x64/dawn.node'],
  // Bundled, tfjs-backend-wasm looks for its binaries in __dirname, the bundle's folder. Node never
  // gets the threaded build (tfjs turns threads off there), so it is left behind.
  ['@tensorflow/tfjs-backend-wasm', 'dist/tfjs-backend-wasm.wasm', 'tfjs-backend-wasm.wasm'],
  ['@tensorflow/tfjs-backend-wasm', 'dist/tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-simd.wasm'],
  // zstd for the shards' Arrow buffers, likewise read from __dirname.
  ['@bokuweb/zstd-wasm', 'dist/common/zstd.wasm', 'zstd.wasm'],
];

/**
 * CommonJS modules in an ESM bundle still call require and read __dirname. The names are the
 * bundle's own, so that they cannot collide with a bundled module's imports (esbuild renames
 * its modules' `require`, never the banner's).
 */
const COMMONJS_SHIMS = [
  "import { createRequire as bundleCreateRequire } from 'node:module';",
  "import { fileURLToPath as bundleFileURLToPath } from 'node:url';",
  "import { dirname as bundleDirname } from 'node:path';",
  'const require = bundleCreateRequire(import.meta.url);',
  'const __filename = bundleFileURLToPath(import.meta.url);',
  'const __dirname = bundleDirname(__filename);',
].join('\n');

/**
 * The tfjs backends register themselves when imported, but their package.json declares their
 * Node entry free of side effects, so esbuild would drop `import '@tensorflow/tfjs-backend-cpu'`.
 */
const backendsRegisterOnImport: Plugin = {
  name: 'tfjs-backends-register-on-import',
  setup(bundler) {
    const resolving = Symbol('resolving');
    bundler.onResolve({ filter: /^@tensorflow\/tfjs-backend-[a-z]+$/ }, async (args) => {
      if (args.pluginData === resolving) return undefined;
      const { path, errors } = await bundler.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: resolving });
      return errors.length ? { errors } : { path, sideEffects: true };
    });
  },
};

export interface DeviceApp {
  folder: string;
  /** Every file in the folder, by path relative to it, largest first. */
  files: Array<{ path: string; bytes: number }>;
  bytes: number;
}

/**
 * Writes the bundle and the files it needs into `folder` (replacing a previous bundle there) and
 * returns what it holds. Fails on any esbuild warning (the one met so far meant a backend silently
 * left out of the bundle) and when the folder passes DEVICE_LIMIT_BYTES.
 */
export async function bundleDeviceApp(folder: string): Promise<DeviceApp> {
  await clearPreviousBundle(folder);
  const result = await build({
    entryPoints: [ENTRY],
    outfile: join(folder, BUNDLE_FILE),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    banner: { js: COMMONJS_SHIMS },
    plugins: [backendsRegisterOnImport],
    logLevel: 'silent',
  });
  if (result.warnings.length) throw new Error(`esbuild warned, so the bundle may be broken:\n${await formatted(result.warnings)}`);
  for (const [pkg, from, to] of CARRIED) {
    await mkdir(dirname(join(folder, to)), { recursive: true });
    await copyFile(join(installedPackageFolder(pkg), from), join(folder, to));
  }
  await cp(join(repoRoot, 'schemas'), join(folder, 'schemas'), { recursive: true });
  const { version, commit } = buildInfo(repoRoot);
  await writeFile(join(folder, 'package.json'), `${JSON.stringify({ name: 'hrrr-embed-device-bench', version, private: true, type: 'module' }, null, 2)}\n`);
  await writeFile(join(folder, BUILD_INFO_FILE), `${JSON.stringify({ commit })}\n`);
  const app = { folder, ...(await folderContents(folder)) };
  assertFits(folder, app.bytes);
  return app;
}

/** Where `pkg` is installed, found from its entry point: a package's exports may hide its package.json. */
function installedPackageFolder(pkg: string): string {
  const entry = createRequire(import.meta.url).resolve(pkg);
  const marker = `${sep}node_modules${sep}${pkg.split('/').join(sep)}${sep}`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) throw new Error(`${pkg} resolves to ${entry}, outside a node_modules folder of its name`);
  return entry.slice(0, at + marker.length - 1);
}

/** The files under `folder`, largest first, and their total size. */
export async function folderContents(folder: string): Promise<Omit<DeviceApp, 'folder'>> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const files = await Promise.all(
    entries.filter((entry) => entry.isFile()).map(async (entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path: relative(folder, path), bytes: (await stat(path)).size };
    }),
  );
  files.sort((a, b) => b.bytes - a.bytes);
  return { files, bytes: files.reduce((sum, file) => sum + file.bytes, 0) };
}

export function assertFits(folder: string, bytes: number): void {
  if (bytes > DEVICE_LIMIT_BYTES) {
    throw new Error(`${folder} holds ${mebibytes(bytes)}, over the ${mebibytes(DEVICE_LIMIT_BYTES)} a call to the device machine can carry (64 MiB with the command's own files)`);
  }
}

export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Refuses to empty a folder that holds something other than a previous bundle (a mistyped --out). */
async function clearPreviousBundle(folder: string): Promise<void> {
  const names = await readdir(folder).catch((error: NodeJS.ErrnoException): string[] => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (names.length && !names.includes(BUNDLE_FILE)) throw new Error(`${folder} is not empty and holds no ${BUNDLE_FILE}: not replacing it`);
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder, { recursive: true });
}

async function formatted(messages: Message[]): Promise<string> {
  return (await formatMessages(messages, { kind: 'warning' })).join('');
}
