/**
 * What an s3:// location says of itself: its bucket, and the settings written after a '?' that
 * hold for it alone (`s3://state?endpoint=http://minio:9000`, `s3://noaa-hrrr-bdp-pds?signed=false`).
 */
export interface S3Location {
  bucket: string;
  endpoint?: string;
  region?: string;
  /** true: sign with the SDK's whole credential chain; false: never sign. */
  signed?: boolean;
}

/** What an s3:// location may say of itself after its '?'. */
export const LOCATION_SETTINGS = ['endpoint', 'region', 'signed'] as const;
type Setting = (typeof LOCATION_SETTINGS)[number];

/** The s3:// location `location` names, its settings checked; undefined for a location that is not s3://BUCKET. */
export function parseS3Location(location: string): S3Location | undefined {
  const parts = /^s3:\/\/([^/?#]+)\/?(?:\?(.*))?$/.exec(location);
  if (!parts) return undefined;
  const bucket = parts[1]!;
  const named = `store location s3://${bucket}`;
  const parsed: S3Location = { bucket };
  if (parts[2] === undefined) return parsed;
  const seen = new Set<string>();
  // URLSearchParams reads '+' as a space (a form's encoding); here, as in the endpoint's URL, it is itself.
  for (const [name, value] of new URLSearchParams(parts[2].replaceAll('+', '%2B'))) {
    // An unknown setting's value is never repeated in a message: it may be a secret written where it does not belong.
    if (!(LOCATION_SETTINGS as readonly string[]).includes(name)) throw new Error(`${named}: unknown setting ${/^[\w-]{1,40}$/.test(name) ? JSON.stringify(name) : '(not repeated)'} (known: ${LOCATION_SETTINGS.join(', ')})`);
    if (seen.has(name)) throw new Error(`${named}: ${name} is given twice`);
    seen.add(name);
    settle(parsed, name as Setting, value, named);
  }
  return parsed;
}

function settle(parsed: S3Location, name: Setting, value: string, named: string): void {
  switch (name) {
    case 'endpoint': {
      if (/@/.test(value)) throw new Error(`${named}: endpoint "${value.replace(/^(.*?:\/\/)?.*@/, '$1***@')}" holds credentials: give them as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), never in a location`);
      // The SDK takes any text, and fails each request later with a retriable "Invalid URL".
      if (!/^https?:\/\/[^/]/.test(value) || !URL.canParse(value)) throw new Error(`${named}: endpoint ${JSON.stringify(value)} is not an http:// or https:// URL`);
      parsed.endpoint = value;
      return;
    }
    case 'signed':
      if (value !== 'true' && value !== 'false') throw new Error(`${named}: signed=${JSON.stringify(value)} is not true or false`);
      parsed.signed = value === 'true';
      return;
    case 'region':
      if (!/^[\w.-]+$/.test(value)) throw new Error(`${named}: region ${JSON.stringify(value)} is no region's name (letters, digits, '.', '_' and '-')`);
      parsed.region = value;
      return;
  }
}
