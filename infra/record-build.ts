/**
 * Records the commit a build without its git checkout was built from into build-info.json beside
 * package.json, for `hrrr-embed --version`, the start log and hrrr_embed_build_info:
 *
 *   node dist/infra/record-build.js [COMMIT]
 *
 * COMMIT (the Dockerfile's build argument) or, where none is given, the checkout's HEAD; without
 * either the file says unknown, so that a build never fails for it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_INFO_FILE, gitCommit, isCommit, UNKNOWN_COMMIT } from '../runtime/build-info.js';
import { packageRoot } from '../runtime/package-root.js';

const root = packageRoot();
const given = process.argv[2]?.trim().toLowerCase() || undefined;
if (given !== undefined && !isCommit(given)) {
  console.error(`record-build: ${JSON.stringify(process.argv[2])} is not a git commit (7 to 40 or 64 hex digits)`);
  process.exit(1);
}
const commit = given ?? gitCommit(root) ?? UNKNOWN_COMMIT;
writeFileSync(join(root, BUILD_INFO_FILE), `${JSON.stringify({ commit })}\n`);
console.error(`record-build: ${join(root, BUILD_INFO_FILE)}: commit ${commit}`);
