import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The repository root (tests run from dist/test/, compiled). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Real HRRR data shared beside the checkout (../shared/data), read in place. */
export const sharedData = process.env.HRRR_EMBED_SHARED_DATA ?? join(repoRoot, '..', 'shared', 'data');
