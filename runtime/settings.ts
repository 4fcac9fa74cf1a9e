import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** One setting: its type, bounds for a number, and the value it has when nobody gives one. */
export type SettingSpec =
  /** `secret`: never from the command line, which every user of the machine can read (ps, /proc/PID/cmdline). */
  | { kind: 'string'; default?: string; short?: string; secret?: true }
  | { kind: 'strings'; default?: readonly string[] }
  | { kind: 'boolean'; default?: boolean; short?: string }
  | { kind: 'number'; default?: number; min: number; max?: number; integer?: boolean };

export type SettingsSchema = Record<string, SettingSpec>;

type ValueOf<S extends SettingSpec> = S extends { kind: 'number' } ? number : S extends { kind: 'boolean' } ? boolean : S extends { kind: 'strings' } ? string[] : string;

/** The settings a schema describes, typed: those with a default are always there. */
export type Settings<T extends SettingsSchema> = { [K in keyof T]: T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined };

export interface LoadedSettings<T extends SettingsSchema> {
  values: Settings<T>;
  /**
   * Where a setting's value came from, as a person would look for it: `--topic-prefix`,
   * `HRRR_EMBED_TOPIC_PREFIX`, `run.json: "topicPrefix"`; for one left to its default or not set,
   * the option that would change it (`--topic-prefix`).
   */
  origin(key: keyof T & string): string;
  /** Whether a setting was given (command line, environment or file), not left to its default. */
  given(key: keyof T & string): boolean;
}

/** A setting that is not one, or has a value of the wrong type; the message names the key and where it came from. */
export class SettingError extends Error {
  override readonly name = 'SettingError';
}

export interface SettingSources {
  /** The command line after the command's name; `--config FILE` (or PREFIX + CONFIG in the environment) names a JSON file of settings. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Environment variables are PREFIX then the key in upper snake case: HRRR_EMBED_ and topicPrefix make HRRR_EMBED_TOPIC_PREFIX. */
  envPrefix: string;
}

/**
 * The settings from the command line, else the environment, else the configuration file, else
 * their defaults, each checked against the schema. Command-line errors that parseArgs finds
 * (an unknown option, a missing value) are its own TypeErrors, as for every other command.
 */
export function loadSettings<T extends SettingsSchema>(schema: T, { args, env, envPrefix }: SettingSources): LoadedSettings<T> {
  const keys = Object.keys(schema);
  const flag = (key: string) => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
  const envName = (key: string) => envPrefix + key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();

  const options = Object.fromEntries(
    keys.map((key) => {
      const spec = schema[key]!;
      const short = 'short' in spec && spec.short !== undefined ? { short: spec.short } : {};
      return [flag(key), spec.kind === 'boolean' ? { type: 'boolean' as const, ...short } : { type: 'string' as const, multiple: spec.kind === 'strings', ...short }];
    }),
  );
  const given: Record<string, string | string[] | boolean | undefined> = parseArgs({ args, options: { ...options, config: { type: 'string' } } }).values;

  const values: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  const set = (key: string, value: unknown, origin: string) => {
    values[key] = value;
    origins[key] = origin;
  };
  for (const key of keys) if (schema[key]!.default !== undefined) values[key] = copy(schema[key]!.default);

  const file = given.config ?? env[`${envPrefix}CONFIG`];
  if (typeof file === 'string') {
    for (const [key, value] of Object.entries(readSettingsFile(file, given.config !== undefined ? '--config' : `${envPrefix}CONFIG`))) {
      const origin = `${file}: ${JSON.stringify(key)}`;
      // Own keys only: "constructor" or "__proto__", found on every object, would pass for settings and set nothing.
      const spec = Object.hasOwn(schema, key) ? schema[key] : undefined;
      if (!spec) throw new SettingError(`${file}: ${JSON.stringify(key)} is not a setting${suggestion(key, keys, JSON.stringify)}`);
      set(key, fromJson(spec, value, origin), origin);
    }
  }

  const envNames = keys.map(envName);
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(envPrefix) || name === `${envPrefix}CONFIG` || text === undefined) continue;
    const index = envNames.indexOf(name);
    // Other tools of the project use the prefix too (HRRR_EMBED_SHARED_DATA...): only a near miss is a mistake.
    if (index < 0) {
      const near = suggestion(name, envNames, (text) => text);
      if (near) throw new SettingError(`${name} is not a setting${near}`);
      continue;
    }
    set(keys[index]!, fromText(schema[keys[index]!]!, text.split(','), name), name);
  }

  for (const key of keys) {
    const value = given[flag(key)];
    if (value === undefined) continue;
    const spec = schema[key]!;
    if ('secret' in spec && spec.secret) throw new SettingError(`--${flag(key)}: a command line is read by every user of the machine (ps): give it in ${envName(key)} (from a secret store) or the --config file`);
    set(key, spec.kind === 'boolean' ? value : fromText(spec, typeof value === 'string' ? [value] : (value as string[]), `--${flag(key)}`), `--${flag(key)}`);
  }
  return { values: values as Settings<T>, origin: (key) => origins[key] ?? `--${flag(key)}`, given: (key) => origins[key] !== undefined };
}

/** The settings of `file`, which the setting `label` (--config, or a variable) named. */
function readSettingsFile(file: string, label: string): Record<string, unknown> {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SettingError(`${label}: cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    // A byte order mark (Windows editors and PowerShell write one) is no JSON: JSON.parse's error shows it as nothing.
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new SettingError(`${file}: not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SettingError(`${file}: expected a JSON object of settings`);
  return parsed as Record<string, unknown>;
}

/** A value written in JSON: numbers and booleans must be JSON numbers and booleans, not strings. */
function fromJson(spec: SettingSpec, value: unknown, origin: string): unknown {
  const shown = 'secret' in spec && spec.secret ? `a ${Array.isArray(value) ? 'list' : value === null ? 'null' : typeof value}` : JSON.stringify(value);
  const wrong = (expected: string) => new SettingError(`${origin}: expected ${expected}, not ${shown}`);
  switch (spec.kind) {
    case 'string':
      if (typeof value !== 'string') throw wrong('a string');
      return value;
    case 'strings':
      if (typeof value === 'string') return [value];
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw wrong('a string or a list of strings');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw wrong('true or false');
      return value;
    case 'number':
      if (typeof value !== 'number') throw wrong('a number');
      return checkNumber(spec, value, String(value), origin);
  }
}

/** A value written as text (command line, environment); `parts` are its comma-separated or repeated pieces. */
function fromText(spec: SettingSpec, parts: string[], origin: string): unknown {
  const text = parts.join(',');
  switch (spec.kind) {
    case 'string':
      return text;
    case 'strings':
      return parts;
    case 'boolean':
      if (/^(true|1)$/i.test(text)) return true;
      if (/^(false|0|)$/i.test(text)) return false;
      throw new SettingError(`${origin}: expected true or false, not ${JSON.stringify(text)}`);
    case 'number':
      return checkNumber(spec, text.trim() === '' ? NaN : Number(text), text, origin);
  }
}

function checkNumber(spec: Extract<SettingSpec, { kind: 'number' }>, value: number, text: string, origin: string): number {
  const what = spec.integer ? 'a whole number' : 'a number';
  const range = spec.max === undefined ? `of at least ${spec.min}` : `from ${spec.min} to ${spec.max}`;
  if (!(value >= spec.min && value <= (spec.max ?? Infinity)) || (spec.integer && !Number.isInteger(value))) throw new SettingError(`${origin}: ${text} is not ${what} ${range}`);
  return value;
}

/** ` (did you mean "partitions"?)` for a key a letter or two away from one, or spelt with other separators; else nothing. */
function suggestion(wrong: string, known: string[], quote: (text: string) => string): string {
  const plain = (text: string) => text.toLowerCase().replace(/[-_]/g, '');
  const best = known
    .map((key) => ({ key, distance: plain(key) === plain(wrong) ? 0 : editDistance(plain(key), plain(wrong)) }))
    .sort((a, b) => a.distance - b.distance)[0];
  return best && best.distance <= 2 ? ` (did you mean ${quote(best.key)}?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

function copy(value: unknown): unknown {
  return Array.isArray(value) ? [...value] : value;
}
