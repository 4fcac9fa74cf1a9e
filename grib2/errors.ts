/** What went wrong, so that callers can decide (all of these are bad input: never retried). */
export type Grib2ErrorKind =
  | 'bad-magic'
  | 'unsupported-edition'
  | 'truncated'
  | 'bad-length'
  | 'bad-section-order'
  | 'unsupported-template'
  | 'bad-bit-width'
  | 'bad-value'
  | 'missing-end';

export interface Grib2ErrorLocation {
  /** WMO section number (0 to 8), when the fault lies in one. */
  section?: number;
  /** Template number of that section (e.g. 3 for template 5.3). */
  template?: number;
  /** Byte offset of the fault from the start of the input buffer. */
  offset: number;
}

/**
 * The decoder's single error class: every fault in the input is reported as one of these,
 * naming the section, the template and the byte offset.
 */
export class Grib2Error extends Error {
  override readonly name = 'Grib2Error';
  readonly kind: Grib2ErrorKind;
  readonly section: number | undefined;
  readonly template: number | undefined;
  readonly offset: number;

  constructor(kind: Grib2ErrorKind, detail: string, where: Grib2ErrorLocation) {
    super(`${describeLocation(where)}: ${detail}`);
    this.kind = kind;
    this.section = where.section;
    this.template = where.template;
    this.offset = where.offset;
  }
}

function describeLocation({ section, template, offset }: Grib2ErrorLocation): string {
  const parts = ['GRIB2'];
  if (section !== undefined) parts.push(`section ${section}`);
  if (template !== undefined && section !== undefined) parts.push(`template ${section}.${template}`);
  parts.push(`at byte ${offset}`);
  return parts.join(' ');
}
