import { relative } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDevice, type Device } from '../model/backends.js';
import { ConfigError } from '../model/config.js';
import { parseArgsRefusal } from '../runtime/parse-args-refusal.js';

/** A mistake in a benchmark's command line: bench/main.ts prints it with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** node:util's parseArgs, with its refusals (an unknown option, a missing value) as usage errors. */
export function parseBenchArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(parseArgsRefusal(error as Error, config.args ?? process.argv.slice(2)));
  }
}

/** `--device`'s value, an unknown one as a usage error naming the known ones. */
export function deviceOption(text: string): Device {
  try {
    return parseDevice(text);
  } catch (error) {
    throw error instanceof ConfigError ? new UsageError(`--${error.message}`) : error;
  }
}

/** `--match`'s value as a regular expression, a malformed one as a usage error. */
export function matchOption(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (error) {
    throw new UsageError(`--match: ${(error as Error).message}`);
  }
}

/** The command line as typed, quoted for a POSIX shell, so that a reported figure can be re-run. */
export function commandLine(args: string[]): string {
  const quoted = args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ');
  return process.env.npm_lifecycle_event === 'bench' ? `npm run bench -- ${quoted}` : `node ${relative(process.cwd(), process.argv[1] ?? 'dist/bench/main.js')} ${quoted}`;
}
