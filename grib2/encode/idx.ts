/** One line of an NCEP-style .idx: where a message starts and what it holds. */
export interface IdxMessage {
  /** Byte offset of the message in the file. */
  offset: number;
  referenceTime: Date;
  /** Short name as wgrib2 prints it, e.g. "REFC". */
  variable: string;
  /** Level words, e.g. "entire atmosphere", "2 m above ground". */
  level: string;
  /** Forecast words, e.g. "anl", "6 hour fcst" (see forecastWords). */
  forecast: string;
}

/** The text of a .idx, one line `N:OFFSET:d=YYYYMMDDHH:VAR:LEVEL:FORECAST:` per message, numbered from 1. */
export function writeIdx(messages: readonly IdxMessage[]): string {
  return messages
    .map((message, i) => {
      for (const word of [message.variable, message.level, message.forecast]) {
        if (/[:\r\n]/.test(word)) throw new RangeError(`.idx field ${JSON.stringify(word)} holds a colon or a line break`);
      }
      if (i > 0 && message.offset <= messages[i - 1]!.offset) {
        throw new RangeError(`message ${i + 1} at offset ${message.offset} does not come after the previous one`);
      }
      return `${i + 1}:${message.offset}:d=${dateHour(message.referenceTime)}:${message.variable}:${message.level}:${message.forecast}:\n`;
    })
    .join('');
}

const UNIT_WORDS: Record<number, string> = { 0: 'min', 1: 'hour', 2: 'day' };

/** wgrib2's words for a forecast time (code table 4.4 unit): "anl" at 0, else e.g. "6 hour fcst", "495 min fcst". */
export function forecastWords(forecastTime: number, indicatorOfUnitOfTimeRange = 1): string {
  if (forecastTime === 0) return 'anl';
  const unit = UNIT_WORDS[indicatorOfUnitOfTimeRange];
  if (unit === undefined) throw new RangeError(`unit of time range ${indicatorOfUnitOfTimeRange} has no .idx words here`);
  return `${forecastTime} ${unit} fcst`;
}

function dateHour(time: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${time.getUTCFullYear()}${two(time.getUTCMonth() + 1)}${two(time.getUTCDate())}${two(time.getUTCHours())}`;
}
