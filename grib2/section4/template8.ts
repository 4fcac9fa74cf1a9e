import type { SectionOctets } from '../octets.js';

/** One time range of a statistically processed product (octets 47-58 of template 4.8, repeated). */
export interface StatisticalTimeRange {
  typeOfStatisticalProcessing: number;
  typeOfTimeIncrement: number;
  indicatorOfUnitForTimeRange: number;
  lengthOfTimeRange: number;
  indicatorOfUnitForTimeIncrement: number;
  timeIncrement: number;
}

/** Product definition template 4.8 beyond 4.0: an average, accumulation or extreme over an interval. */
export interface StatisticalProcessing {
  endOfOverallTimeInterval: Date;
  numberOfTimeRange: number;
  numberOfMissingInStatisticalProcess: number;
  timeRanges: StatisticalTimeRange[];
}

export function readStatisticalProcessing(octets: SectionOctets): StatisticalProcessing {
  const endOfOverallTimeInterval = octets.dateTime(35, 'end of the overall time interval');
  const numberOfTimeRange = octets.u8(42);
  const timeRanges: StatisticalTimeRange[] = [];
  for (let i = 0, at = 47; i < numberOfTimeRange; i += 1, at += 12) {
    timeRanges.push({
      typeOfStatisticalProcessing: octets.u8(at),
      typeOfTimeIncrement: octets.u8(at + 1),
      indicatorOfUnitForTimeRange: octets.u8(at + 2),
      lengthOfTimeRange: octets.u32(at + 3),
      indicatorOfUnitForTimeIncrement: octets.u8(at + 7),
      timeIncrement: octets.u32(at + 8),
    });
  }
  return {
    endOfOverallTimeInterval,
    numberOfTimeRange,
    numberOfMissingInStatisticalProcess: octets.u32(43),
    timeRanges,
  };
}
