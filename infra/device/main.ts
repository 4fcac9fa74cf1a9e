/**
 * `npm run bundle:device [-- --out DIR]`: writes the benchmarks' device bundle into .device/app
 * (or DIR) and prints what it holds. When the folder above it is device-kit.sh's (.device/, with
 * Node.js and the Vulkan loader), that whole folder is what a call carries, so it is measured too.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assertFits, BUNDLE_FILE, bundleDeviceApp, folderContents, mebibytes } from './bundle.js';

/** The repository root (this runs compiled, from dist/infra/device/). */
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function main(argv: string[]): Promise<number> {
  let out: string;
  try {
    out = resolve(parseArgs({ args: argv, options: { out: { type: 'string', default: join(repoRoot, '.device', 'app') } } }).values.out);
  } catch (error) {
    process.stderr.write(`bundle:device: ${(error as Error).message}\nusage: npm run bundle:device [-- --out DIR]\n`);
    return 2;
  }
  const started = performance.now();
  const app = await bundleDeviceApp(out);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  for (const file of app.files) process.stdout.write(`${mebibytes(file.bytes).padStart(10)}  ${file.path}\n`);
  process.stdout.write(`${mebibytes(app.bytes).padStart(10)}  ${out} (bundled in ${seconds} s)\n`);
  const kit = dirname(out);
  if (existsSync(join(kit, 'enter.sh'))) {
    const carried = await folderContents(kit);
    process.stdout.write(`${mebibytes(carried.bytes).padStart(10)}  ${kit}, what the device call carries\n`);
    assertFits(kit, carried.bytes);
    // The device machine runs the command in its copy of the repository root.
    const there = (path: string) => relative(repoRoot, path);
    process.stdout.write(`carry ["${there(kit)}"] and run: bash ${there(join(kit, 'enter.sh'))} node ${there(join(out, BUNDLE_FILE))} model --size full --device webgpu --profile\n`);
  } else {
    process.stdout.write(`no device kit in ${kit}: run bash ../shared/gpu/device-kit.sh from the repository root for Node.js and the Vulkan loader\n`);
  }
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bundle:device: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
