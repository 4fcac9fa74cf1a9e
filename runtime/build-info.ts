import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

/** Which build runs: package.json's version and the git commit it was built from. */
export interface BuildInfo {
  version: string;
  /** The full hash, or 'unknown' where the build does not know it. */
  commit: string;
}

/**
 * Where a build without its git checkout (the container image, the npm package, the device
 * bundle) keeps the commit it was built from, beside package.json: written by
 * infra/record-build.ts (the Dockerfile, npm pack) and infra/device/bundle.ts.
 */
export const BUILD_INFO_FILE = 'build-info.json';

export const UNKNOWN_COMMIT = 'unknown';

/**
 * The build of the package at `root`. In a git checkout the commit is its HEAD, read at each
 * start, since a file recorded there would go stale with the next commit; elsewhere, the one
 * recorded in build-info.json; else unknown.
 */
export function buildInfo(root = packageRoot()): BuildInfo {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  return { version: version ?? 'unknown', commit: gitCommit(root) ?? recordedCommit(root) ?? UNKNOWN_COMMIT };
}

/** HEAD of the git checkout at `root`, or undefined where there is none (or no git to ask). */
export function gitCommit(root: string): string | undefined {
  if (!existsSync(join(root, '.git'))) return undefined;
  const result = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
  const commit = result.status === 0 ? result.stdout.trim() : '';
  return isCommit(commit) ? commit : undefined;
}

/** A git object name: 7 to 40 hex digits (SHA-1), or 64 (SHA-256). */
export function isCommit(text: string): boolean {
  return /^(?:[0-9a-f]{7,40}|[0-9a-f]{64})$/.test(text);
}

function recordedCommit(root: string): string | undefined {
  const path = join(root, BUILD_INFO_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const { commit } = JSON.parse(readFileSync(path, 'utf8')) as { commit?: unknown };
    return typeof commit === 'string' && isCommit(commit) ? commit : undefined;
  } catch {
    // A damaged file says no more than a missing one: the version still prints.
    return undefined;
  }
}
