import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where a profile of the AWS shared files says its S3 is. */
export interface ProfileSettings {
  endpoint?: string;
  region?: string;
}

type Sections = Map<string, Map<string, string>>;

/**
 * What profile `name` says in the AWS shared files (AWS_CONFIG_FILE, else ~/.aws/config, and
 * AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials): S3's endpoint_url in the profile's
 * services section, else the profile's endpoint_url, and its region. The SDK reads a client's
 * profile for its credentials, but an endpoint_url only from AWS_PROFILE's or the default's, and
 * a region only where the client is given none. Undefined when neither file has the profile.
 */
export function profileSettings(name: string, home: string | undefined): ProfileSettings | undefined {
  const config = readIni(sharedFile(process.env.AWS_CONFIG_FILE, home, 'config'));
  const credentials = readIni(sharedFile(process.env.AWS_SHARED_CREDENTIALS_FILE, home, 'credentials'));
  const inConfig = config.get(name === 'default' ? 'default' : `profile ${name}`) ?? (name === 'default' ? config.get('profile default') : undefined);
  const inCredentials = credentials.get(name);
  if (!inConfig && !inCredentials) return undefined;
  const services = inConfig?.get('services');
  const endpoint = (services !== undefined ? config.get(`services ${services}`)?.get('s3.endpoint_url') : undefined) ?? inConfig?.get('endpoint_url');
  const region = inCredentials?.get('region') ?? inConfig?.get('region');
  return { ...(endpoint !== undefined && { endpoint }), ...(region !== undefined && { region }) };
}

/** A shared file's path as the SDK takes it: the variable (a leading ~/ is the home folder), else in ~/.aws. */
function sharedFile(variable: string | undefined, home: string | undefined, file: string): string | undefined {
  if (variable) return variable.startsWith('~/') && home !== undefined ? join(home, variable.slice(2)) : variable;
  return home === undefined ? undefined : join(home, '.aws', file);
}

/**
 * The sections of an INI file as the SDK reads them: comments begin with # or ; (after a blank),
 * and a key with no value opens a sub-section of the indented lines under it ("s3 =" then
 * "  endpoint_url = ..." is s3.endpoint_url). No file is no section.
 */
function readIni(path: string | undefined): Sections {
  const sections: Sections = new Map();
  if (path === undefined || !existsSync(path)) return sections;
  let section: Map<string, string> | undefined;
  let subSection: string | undefined;
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const text = line.split(/(?:^|\s)[;#]/)[0]!.trim();
    if (text.startsWith('[') && text.endsWith(']')) {
      const name = text.slice(1, -1).trim().replace(/\s+/g, ' ');
      section = sections.get(name) ?? new Map();
      sections.set(name, section);
      subSection = undefined;
      continue;
    }
    const equals = text.indexOf('=');
    if (section === undefined || equals <= 0) continue;
    const [key, value] = [text.slice(0, equals).trim(), text.slice(equals + 1).trim()];
    if (value === '') {
      subSection = key;
      continue;
    }
    if (subSection !== undefined && line.trimStart() === line) subSection = undefined;
    section.set(subSection === undefined ? key : `${subSection}.${key}`, value);
  }
  return sections;
}
