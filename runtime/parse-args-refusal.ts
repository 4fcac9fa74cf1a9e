/**
 * node:util parseArgs's refusal as one line for a usage error. Its refusal of a value that begins
 * with a dash after a space (`--days -1`, taken for an option) is three lines that do not show
 * the value; this names the option and the value, and the form parseArgs takes (`--days=-1`), or
 * that the option has no value when what follows is a long option (`--days --force`).
 */
export function parseArgsRefusal(error: Error, args: readonly string[]): string {
  const ambiguous = /^Option '([^']+)' argument is ambiguous\.[^]*use '([^']+)=-XYZ'/.exec(error.message);
  if (!ambiguous) return error.message;
  const [, given, long] = ambiguous as unknown as [string, string, string];
  const at = args.findIndex((arg, index) => arg === given && args[index + 1]?.startsWith('-'));
  if (at < 0) return `${given} takes a value: one that begins with a dash is given as ${long}=VALUE`;
  const value = args[at + 1]!;
  // A value written as a long option (--steps --fresh) is one the user forgot, not one to give with '='.
  if (value.startsWith('--')) return `${given} ${value}: ${given} has no value (${value} is taken for an option); a value that begins with a dash is given as ${long}=VALUE`;
  return `${given} ${value}: a value that begins with a dash is taken for an option; give it as ${long}=${value}`;
}
