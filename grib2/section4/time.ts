/** Code table 4.4: units of time ranges, in seconds where the length is fixed. */
const SECONDS_PER_UNIT: Record<number, number> = {
  0: 60,
  1: 3600,
  2: 86_400,
  10: 3 * 3600,
  11: 6 * 3600,
  12: 12 * 3600,
  13: 1,
};
const MONTHS_PER_UNIT: Record<number, number> = { 3: 1, 4: 12, 5: 120, 6: 360, 7: 1200 };

/** Adds `amount` time units (code table 4.4) to a date; undefined for an unknown unit. */
export function addTimeUnits(date: Date, amount: number, unit: number): Date | undefined {
  const seconds = SECONDS_PER_UNIT[unit];
  if (seconds !== undefined) return new Date(date.getTime() + amount * seconds * 1000);
  const months = MONTHS_PER_UNIT[unit];
  if (months === undefined) return undefined;
  const shifted = new Date(date.getTime());
  shifted.setUTCMonth(shifted.getUTCMonth() + amount * months);
  return shifted;
}

/** Code table 4.4 unit as a suffix for humans and .idx-style descriptions. */
export function unitName(unit: number): string {
  return ({ 0: 'min', 1: 'hour', 2: 'day', 3: 'month', 4: 'year', 10: '3 hour', 11: '6 hour', 12: '12 hour', 13: 'sec' } as Record<number, string>)[unit] ?? `unit ${unit}`;
}
