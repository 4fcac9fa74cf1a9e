import type { SectionOctets } from '../octets.js';
import { addTimeUnits, unitName } from './time.js';
import { readPointInTimeProduct, type PointInTimeProduct } from './template0.js';
import { readStatisticalProcessing, type StatisticalProcessing } from './template8.js';
import { describeLevel } from './surface.js';

/** Section 4, the product definition: what the values are, where and when. */
export interface ProductDefinition extends PointInTimeProduct {
  productDefinitionTemplateNumber: number;
  /** Present for template 4.8 (accumulations, averages...). */
  statistics: StatisticalProcessing | undefined;
  /** The level as NCEP's .idx files write it, e.g. "entire atmosphere". */
  level: string;
  /** The forecast as NCEP's .idx files write it: "anl", "15 min fcst", "4-5 hour acc fcst". */
  forecast: string;
  /** When the values hold: reference time plus forecast time, or the end of a statistical interval. */
  validTime: Date;
}

export function readProductDefinition(octets: SectionOctets, referenceTime: Date): ProductDefinition {
  if (octets.u16(6) !== 0) {
    throw octets.fail('unsupported-template', 'hybrid coordinate values after the template are not supported', 6);
  }
  const productDefinitionTemplateNumber = octets.u16(8);
  octets.template = productDefinitionTemplateNumber;
  if (productDefinitionTemplateNumber !== 0 && productDefinitionTemplateNumber !== 8) {
    throw octets.fail('unsupported-template', 'only product templates 4.0 and 4.8 are supported', 8);
  }
  const product = readPointInTimeProduct(octets);
  const statistics = productDefinitionTemplateNumber === 8 ? readStatisticalProcessing(octets) : undefined;
  const validTime =
    statistics?.endOfOverallTimeInterval ??
    addTimeUnits(referenceTime, product.forecastTime, product.indicatorOfUnitOfTimeRange);
  if (validTime === undefined || Number.isNaN(validTime.getTime())) {
    throw octets.fail('bad-value', `unknown unit of time range ${product.indicatorOfUnitOfTimeRange}`, 18);
  }
  return {
    productDefinitionTemplateNumber,
    ...product,
    statistics,
    level: describeLevel(product.firstSurface, product.secondSurface),
    forecast: describeForecast(product, statistics),
    validTime,
  };
}

/** Code table 4.10, as wgrib2 abbreviates it. */
const STATISTICAL_PROCESSES: Record<number, string> = { 0: 'ave', 1: 'acc', 2: 'max', 3: 'min' };

function describeForecast(product: PointInTimeProduct, statistics: StatisticalProcessing | undefined): string {
  const unit = unitName(product.indicatorOfUnitOfTimeRange);
  const range = statistics?.timeRanges[0];
  if (!range) return product.forecastTime === 0 ? 'anl' : `${product.forecastTime} ${unit} fcst`;
  const process = STATISTICAL_PROCESSES[range.typeOfStatisticalProcessing] ?? `process ${range.typeOfStatisticalProcessing}`;
  const end =
    range.indicatorOfUnitForTimeRange === product.indicatorOfUnitOfTimeRange
      ? product.forecastTime + range.lengthOfTimeRange
      : `${product.forecastTime}+${range.lengthOfTimeRange} ${unitName(range.indicatorOfUnitForTimeRange)}`;
  return `${product.forecastTime}-${end} ${unit} ${process} fcst`;
}
