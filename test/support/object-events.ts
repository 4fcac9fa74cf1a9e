import type { OutgoingRecord } from '../../bus/bus.js';

/** The S3 notification of one object created in `bucket` (as S3 sends it: the key URL-encoded by the caller). */
export function s3ObjectCreated(key: string, bucket = 'noaa-hrrr-bdp-pds'): string {
  return JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key } } }] });
}

/** That notification as a record on an events topic, keyed by the object's key. */
export function objectCreatedRecord(key: string): OutgoingRecord {
  return { key: Buffer.from(key), value: Buffer.from(s3ObjectCreated(key)) };
}
