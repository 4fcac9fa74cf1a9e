/**
 * Where HRRR puts its files, in NOAA's bucket (noaa-hrrr-bdp-pds) and in folders laid out like it:
 * hrrr.YYYYMMDD/DOMAIN/hrrr.tHHz.PRODUCT.grib2, with the .idx beside it (KEY.idx).
 */
export interface HrrrProduct {
  /** "conus" (3 km, hourly) or "alaska". */
  domain: string;
  /** "wrfsfcf00": the surface fields of the analysis; "wrfprsf00", "wrfsubhf00"... */
  product: string;
}

export const hourlyAnalysis: HrrrProduct = { domain: 'conus', product: 'wrfsfcf00' };

export const HOUR_MS = 3_600_000;

export function gribKey(time: Date, { domain, product }: HrrrProduct = hourlyAnalysis): string {
  const iso = time.toISOString();
  return `hrrr.${iso.slice(0, 10).replaceAll('-', '')}/${domain}/hrrr.t${iso.slice(11, 13)}z.${product}.grib2`;
}

export function idxKey(time: Date, product: HrrrProduct = hourlyAnalysis): string {
  return `${gribKey(time, product)}.idx`;
}

/**
 * The cycle hour of a GRIB2 or .idx key of this product, or undefined for any other key, including
 * one of a day or hour that is none (hrrr.20190229, t24z): Date.UTC would roll it over to another
 * hour, whose object is not the one the key names.
 */
export function timeOfKey(key: string, { domain, product }: HrrrProduct = hourlyAnalysis): Date | undefined {
  const match = /^hrrr\.(\d{4})(\d{2})(\d{2})\/([^/]+)\/hrrr\.t(\d{2})z\.([^.]+)\.grib2(\.idx)?$/.exec(key);
  if (!match || match[4] !== domain || match[6] !== product) return undefined;
  const [, year, month, day, , hour] = match;
  const time = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour)));
  return gribKey(time, { domain, product }) === key.replace(/\.idx$/, '') ? time : undefined;
}

/** "2019-09-20T05Z", "2019-09-20T05:00Z", "2019-09-20T05:00:00Z" or "2019-09-20" (hour 00) -> that hour, UTC. */
export function parseHour(text: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::00(?::00(?:\.0+)?)?)?Z?)?$/.exec(text.trim());
  const time = match && new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(match[4] ?? 0)));
  if (!time || Number.isNaN(time.getTime()) || time.toISOString().slice(0, 10) !== `${match![1]}-${match![2]}-${match![3]}` || Number(match![4] ?? 0) > 23) {
    throw new RangeError(`${JSON.stringify(text)} is not an hour such as 2019-09-20T05Z`);
  }
  return time;
}

/** 2019-09-20T05Z: how hours are written on the command line and in logs. */
export function formatHour(time: Date): string {
  return `${time.toISOString().slice(0, 13)}Z`;
}

export function floorHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}
