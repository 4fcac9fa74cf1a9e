/** An object that an S3 event notification says was created. */
export interface ObjectCreated {
  bucket: string;
  key: string;
  size: number | undefined;
  eventTime: Date | undefined;
}

export class ObjectEventError extends Error {
  override readonly name = 'ObjectEventError';
}

interface S3EventRecord {
  eventName?: unknown;
  eventTime?: unknown;
  s3?: { bucket?: { name?: unknown }; object?: { key?: unknown; size?: unknown } };
}

/**
 * The objects created according to one event message: an S3 event notification
 * ({"Records": [...]}), the same wrapped in an SNS notification ({"Type": "Notification",
 * "Message": "<the S3 event as a string>"}) as NOAA's NewHRRRObject topic sends it, or an S3
 * test event (no objects). Events other than ObjectCreated:* are left out. Anything else is an
 * ObjectEventError that says what was wrong.
 */
export function parseObjectCreated(message: string | Uint8Array): ObjectCreated[] {
  const text = typeof message === 'string' ? message : new TextDecoder().decode(message);
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch (error) {
    throw new ObjectEventError(`event is not JSON: ${(error as Error).message}`);
  }
  if (isObject(event) && event.Type === 'Notification') {
    if (typeof event.Message !== 'string') throw new ObjectEventError('SNS notification without a string "Message"');
    return parseObjectCreated(event.Message);
  }
  if (isObject(event) && event.Event === 's3:TestEvent') return [];
  if (!isObject(event) || !Array.isArray(event.Records)) throw new ObjectEventError('event has no "Records" array (neither an S3 event notification nor an SNS notification of one)');
  return event.Records.flatMap((record: S3EventRecord, i: number): ObjectCreated[] => {
    if (typeof record?.eventName !== 'string') throw new ObjectEventError(`Records[${i}] has no "eventName"`);
    if (!record.eventName.startsWith('ObjectCreated:')) return [];
    const bucket = record.s3?.bucket?.name;
    const key = record.s3?.object?.key;
    if (typeof bucket !== 'string' || typeof key !== 'string') throw new ObjectEventError(`Records[${i}] has no s3.bucket.name or s3.object.key`);
    const size = record.s3?.object?.size;
    const time = typeof record.eventTime === 'string' ? new Date(record.eventTime) : undefined;
    return [{
      bucket,
      key: decodedKey(key, i),
      size: typeof size === 'number' ? size : undefined,
      eventTime: time && !Number.isNaN(time.getTime()) ? time : undefined,
    }];
  });
}

/** Keys in S3 events are URL-encoded, with "+" for spaces. */
function decodedKey(key: string, i: number): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    throw new ObjectEventError(`Records[${i}]: key ${JSON.stringify(key)} is not URL-encoded`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
