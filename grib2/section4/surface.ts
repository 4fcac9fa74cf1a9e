import type { SectionOctets } from '../octets.js';

/** A fixed surface (code table 4.5) with its value; the value is undefined where it is missing. */
export interface FixedSurface {
  type: number;
  scaleFactor: number | undefined;
  scaledValue: number | undefined;
  value: number | undefined;
}

const MISSING_TYPE = 255;

/** Reads type, scale factor and scaled value starting at `octet` (octets 23 and 29 of template 4.0). */
export function readFixedSurface(octets: SectionOctets, octet: number): FixedSurface {
  const type = octets.u8(octet);
  const rawScale = octets.u8(octet + 1);
  const rawValue = octets.u32(octet + 2);
  const scaleFactor = rawScale === 0xff ? undefined : octets.s8(octet + 1);
  const scaledValue = rawValue === 0xffffffff ? undefined : octets.s32(octet + 2);
  const value = scaledValue === undefined ? undefined : scaledValue / 10 ** (scaleFactor ?? 0);
  return { type, scaleFactor, scaledValue, value };
}

const NAMED_SURFACES: Record<number, string> = {
  1: 'surface',
  2: 'cloud base',
  3: 'cloud top',
  4: '0C isotherm',
  8: 'top of atmosphere',
  10: 'entire atmosphere',
  101: 'mean sea level',
  200: 'entire atmosphere',
  215: 'cloud ceiling',
  220: 'planetary boundary layer',
};

function valueWithUnit(surface: FixedSurface): string | undefined {
  const v = surface.value;
  if (v === undefined) return undefined;
  switch (surface.type) {
    case 100:
      return `${v / 100} mb`;
    case 103:
      return `${v} m above ground`;
    case 106:
      return `${v} m below ground`;
    case 108:
      return `${v / 100} mb above ground`;
    default:
      return undefined;
  }
}

/** A level in the words NCEP's .idx files use, e.g. "entire atmosphere", "2 m above ground", "500 mb". */
export function describeLevel(first: FixedSurface, second: FixedSurface): string {
  const named = NAMED_SURFACES[first.type];
  if (named !== undefined) return named;
  const top = valueWithUnit(first);
  if (second.type === first.type && second.value !== undefined && first.value !== undefined && top !== undefined) {
    const bottom = valueWithUnit(second) ?? '';
    const [number] = bottom.split(' ');
    return `${top.split(' ')[0]}-${number}${top.slice(top.indexOf(' '))}`;
  }
  if (top !== undefined) return top;
  return first.type === MISSING_TYPE ? 'unknown level' : `level type ${first.type}`;
}
