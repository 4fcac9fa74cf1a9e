import { relative } from 'node:path';

/** A mistake in a benchmark's command line: bench/main.ts prints it with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command line as typed, quoted for a POSIX shell, so that a reported figure can be re-run. */
export function commandLine(args: string[]): string {
  const quoted = args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ');
  return process.env.npm_lifecycle_event === 'bench' ? `npm run bench -- ${quoted}` : `node ${relative(process.cwd(), process.argv[1] ?? 'dist/bench/main.js')} ${quoted}`;
}
