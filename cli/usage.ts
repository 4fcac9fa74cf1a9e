import { SettingError } from '../runtime/settings.js';

/** A command line that cannot be run as given: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/** What `make` builds from an option's value; its error, naming the option by `label` (e.g. "--registry"), is a wrong command line. */
export function optionOrUsage<T>(label: string, usage: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    throw new UsageError(`${label}: ${(error as Error).message}`, usage);
  }
}

/** Settings as `load` reads them; a setting that is wrong is a wrong command line, shown with `usage`. */
export function settingsOrUsage<T>(load: () => T, usage: string): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof SettingError) throw new UsageError(error.message, usage);
    throw error;
  }
}
