import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StageLogger } from '../stages/stage.js';
import { FallbackStore } from './fallback.js';
import { FolderStore } from './folder.js';
import type { ObjectStore } from './object-store.js';
import { RetryingStore, type RetryPolicy } from './retrying.js';
import { S3Store } from './s3.js';
import { LOCATION_SETTINGS, parseS3Location, type S3Location } from './s3-location.js';

/** NOAA's public HRRR archive on AWS: what `run` and `fetch` read when told nothing else. */
export const NOAA_HRRR_BUCKET = 's3://noaa-hrrr-bdp-pds';

/**
 * Variables that say the SDK's credential chain has credentials to find: keys, a profile, a web
 * identity (EKS IRSA), a container credentials endpoint (EKS Pod Identity, ECS task roles).
 */
const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'];

/** HRRR_EMBED_S3_SIGNED: "true" signs with the SDK's whole chain (which ends with an EC2 instance role), "false" never; unset, undefined. */
function signingAsked(): boolean | undefined {
  const asked = process.env.HRRR_EMBED_S3_SIGNED;
  if (asked === undefined) return undefined;
  if (asked !== 'true' && asked !== 'false') throw new Error(`HRRR_EMBED_S3_SIGNED: ${JSON.stringify(asked)} is not true or false`);
  return asked === 'true';
}

/**
 * Whether the SDK's chain has credentials to find short of instance metadata: variables, or the
 * keys file `aws configure` writes. Not ~/.aws/config alone: it often holds only a region.
 */
function credentialsConfigured(home: string | undefined): boolean {
  const file = process.env.AWS_SHARED_CREDENTIALS_FILE ?? (home === undefined ? undefined : join(home, '.aws', 'credentials'));
  return CREDENTIAL_VARIABLES.some((name) => process.env[name]) || (file !== undefined && existsSync(file));
}

/** The home folder as the AWS SDK finds it (HOME, else the user's entry); none with no HOME for a uid the system does not know. */
function homeFolder(): string | undefined {
  if (process.env.HOME) return process.env.HOME;
  try {
    return homedir();
  } catch {
    return undefined;
  }
}

export interface OpenStoreOptions {
  /** An S3-compatible server for s3:// locations; default AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else AWS. */
  endpoint?: string;
  region?: string;
  /** Sign requests with the SDK's credential chain; default: HRRR_EMBED_S3_SIGNED, else only when AWS credentials are configured (variables or files). */
  signed?: boolean;
  retry?: Partial<RetryPolicy>;
  log?: StageLogger;
}

/** The process has no home folder for the AWS SDK to read: its environment is wrong, not the location. */
export class NoHomeFolderError extends Error {
  override readonly name = 'NoHomeFolderError';
}

/**
 * The store a location names: "s3://BUCKET", a folder path, "file:///path", or several of them
 * separated by commas, read in that order of priority (see FallbackStore). Every store retries
 * passing failures (see RetryingStore).
 */
export function openStore(location: string, options: OpenStoreOptions = {}): ObjectStore {
  const locations = location.split(',').map((part) => part.trim()).filter(Boolean);
  if (locations.length === 0) throw new Error(`no store location in ${JSON.stringify(location)}`);
  const folder = locations.length > 1 ? existingFolder(location) : undefined;
  if (folder !== undefined) {
    const url = new FolderStore(folder).url;
    throw new Error(`store location ${JSON.stringify(location)}: a comma separates store locations, so this would be ${locations.length} stores, not the folder of that name: write the folder as ${url}`);
  }
  const stores = locations.map((part) => new RetryingStore(openOne(part, options), { ...(options.retry && { policy: options.retry }), ...(options.log && { log: options.log }) }));
  return stores.length === 1 ? stores[0]! : new FallbackStore(stores, options.log);
}

function openOne(location: string, options: OpenStoreOptions): ObjectStore {
  // A bucket name has no '@': this is a user and password, which would be taken into the bucket's name and every log line.
  const withCredentials = /^([a-z][a-z0-9+.-]*:\/\/)[^?]*@([^?]*)/i.exec(location);
  if (withCredentials && !location.startsWith('file://')) {
    throw new Error(`store location "${withCredentials[1]}***@${withCredentials[2]}" holds credentials: give them as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), never in a location`);
  }
  // Settings hold for an s3:// location alone: after a folder's path they would become part of its name, after a file URL its query.
  const settingsAfter = new RegExp(`^((?:file://|(?![a-z][a-z0-9+.-]*://))[^?]*)\\?(?:${LOCATION_SETTINGS.join('|')})=`, 'i').exec(location);
  if (settingsAfter) throw new Error(`store location ${JSON.stringify(settingsAfter[1])}: settings (${LOCATION_SETTINGS.map((name) => `${name}=`).join(', ')}) are for s3://BUCKET locations alone; a folder takes none`);
  if (location.startsWith('file://')) {
    const url = new URL(location);
    // "file://data/hrrr" is the folder /hrrr on a host named "data": not what its writer meant.
    if (url.host !== '' && url.host !== 'localhost') throw new Error(`store location ${JSON.stringify(location)} names the host ${JSON.stringify(url.host)}: write file:///PATH (three slashes) or the folder's path`);
    // '#' and '?' begin a URL's fragment and query: unescaped, they would cut the folder's path short.
    if (/[#?]/.test(location)) throw new Error(`store location ${JSON.stringify(location)}: a file URL's path ends at '#' or '?': write them %23 and %3F, or give the folder's path`);
    try {
      return new FolderStore(fileURLToPath(url));
    } catch (error) {
      throw new Error(`store location ${JSON.stringify(location)} is no folder's file URL (${(error as Error).message}): a '%' there begins an escape, '%' itself is %25; or give the folder's path`, { cause: error });
    }
  }
  const s3 = parseS3Location(location);
  if (s3) return openS3(s3, options);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) throw new Error(`store location ${JSON.stringify(withoutCredentials(location))}: not s3://BUCKET, a folder, or file:///PATH`);
  // A shell expands ~ only at the start of a word: not in a settings file, a variable, or --data=~/x.
  if (location === '~' || location.startsWith('~/')) throw new Error(`store location ${JSON.stringify(location)}: no shell expanded its ~ (a settings file, an environment variable, --option=~/...): write the home folder's path`);
  return new FolderStore(location);
}

/** A location as a message shows it: a user and password, even one in an endpoint written in its settings, become ***. */
const withoutCredentials = (location: string) => location.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^]*@/i, '$1***@');

/**
 * The S3 store of a location: what the location says of its endpoint, region and signing wins
 * over the options and the environment. It is named s3://BUCKET whatever the server, as with
 * --endpoint: a retrain request and the trainer name one model store alike however each was told
 * where it is.
 */
function openS3(location: S3Location, options: OpenStoreOptions): ObjectStore {
  const home = homeFolder();
  // The SDK reads ~/.aws/config for every request, and each would fail in os.homedir().
  if (home === undefined && !(process.env.AWS_CONFIG_FILE && process.env.AWS_SHARED_CREDENTIALS_FILE)) {
    throw new NoHomeFolderError(`s3://${location.bucket}: the AWS SDK reads its settings in the home folder, and this process has none (HOME is not set, and uid ${process.getuid?.()} has no entry in the system's users): set HOME (HOME=/ will do), or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE`);
  }
  const [endpoint, named] = [
    [location.endpoint, `store location s3://${location.bucket}: endpoint`],
    [options.endpoint, 'endpoint'],
    [process.env.AWS_ENDPOINT_URL_S3, 'AWS_ENDPOINT_URL_S3'],
    [process.env.AWS_ENDPOINT_URL, 'AWS_ENDPOINT_URL'],
  ].find(([url]) => url !== undefined) ?? [];
  if (endpoint !== undefined) checkEndpoint(endpoint, `${named} `);
  const region = location.region ?? options.region;
  const fromEnvironment = location.signed === undefined && options.signed === undefined ? signingAsked() : undefined;
  const signed = location.signed ?? options.signed ?? fromEnvironment ?? credentialsConfigured(home);
  // Said when a bucket refuses an unsigned request; S3Store's default says no credentials were found.
  const unsignedBecause = location.signed === false ? 'the location says signed=false' : fromEnvironment === false ? 'HRRR_EMBED_S3_SIGNED=false' : undefined;
  return new S3Store({
    bucket: location.bucket,
    anonymous: !signed,
    ...(unsignedBecause !== undefined && { unsignedBecause }),
    ...(region !== undefined && { region }),
    // Path-style for other servers (MinIO, moto...); AWS's own endpoints keep the bucket in the host name, which buckets made since 2020 require.
    ...(endpoint !== undefined && { endpoint, forcePathStyle: !isAwsEndpoint(endpoint) }),
  });
}

/**
 * Throws unless `endpoint` is an http:// or https:// URL; the message begins with `named`. The SDK
 * takes any text, and fails each request later with a retriable "Invalid URL".
 */
export function checkEndpoint(endpoint: string, named = ''): void {
  if (!/^https?:\/\/[^/]/.test(endpoint) || !URL.canParse(endpoint)) throw new Error(`${named}${JSON.stringify(endpoint.replace(/^(.*?:\/\/)?.*@/, '$1***@'))} is not an http:// or https:// URL`);
}

const isAwsEndpoint = (endpoint: string) => /(^|\.)amazonaws\.com(\.cn)?$/.test(new URL(endpoint).hostname);

/** The folder that exists at a path or file URL (a location that is neither names none). */
function existingFolder(location: string): string | undefined {
  try {
    const path = location.startsWith('file://') ? fileURLToPath(location) : location;
    return statSync(path).isDirectory() ? path : undefined;
  } catch {
    return undefined;
  }
}
