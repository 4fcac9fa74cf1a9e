import type { SectionOctets } from '../octets.js';
import { readLatLonGrid, type LatLonGrid } from './template0.js';
import { readLambertConformalGrid, type LambertConformalGrid } from './template30.js';

export type GridTemplate = LatLonGrid | LambertConformalGrid;

/** Section 3, the grid definition: its header and the template it names. */
export interface GridDefinition {
  sourceOfGridDefinition: number;
  numberOfDataPoints: number;
  gridDefinitionTemplateNumber: number;
  /** Points along a row (Ni or Nx) and rows (Nj or Ny). */
  nx: number;
  ny: number;
  template: GridTemplate;
}

/** 2^28 points (HRRR has 1.9 million, a 0.1 degree global grid 6.5 million): past that, refuse before allocating. */
const MAX_POINTS = 2 ** 28;

export function readGridDefinition(octets: SectionOctets): GridDefinition {
  const sourceOfGridDefinition = octets.u8(6);
  if (sourceOfGridDefinition !== 0) {
    throw octets.fail('unsupported-template', `grid defined by source ${sourceOfGridDefinition}, only source 0 (a template) is supported`, 6);
  }
  const numberOfDataPoints = octets.u32(7);
  if (numberOfDataPoints > MAX_POINTS) {
    throw octets.fail('unsupported-template', `${numberOfDataPoints} data points: at most ${MAX_POINTS} are supported`, 7);
  }
  if (octets.u8(11) !== 0) {
    throw octets.fail('unsupported-template', 'quasi-regular grids (an optional list of numbers of points) are not supported', 11);
  }
  const gridDefinitionTemplateNumber = octets.u16(13);
  octets.template = gridDefinitionTemplateNumber;
  let template: GridTemplate;
  let nx: number;
  let ny: number;
  switch (gridDefinitionTemplateNumber) {
    case 0:
      template = readLatLonGrid(octets);
      [nx, ny] = [template.Ni, template.Nj];
      break;
    case 30:
      template = readLambertConformalGrid(octets);
      [nx, ny] = [template.Nx, template.Ny];
      break;
    default:
      throw octets.fail('unsupported-template', 'only grid templates 3.0 and 3.30 are supported', 13);
  }
  if (nx * ny !== numberOfDataPoints) {
    throw octets.fail('bad-value', `grid of ${nx} x ${ny} points does not hold the declared ${numberOfDataPoints} data points`, 7);
  }
  return { sourceOfGridDefinition, numberOfDataPoints, gridDefinitionTemplateNumber, nx, ny, template };
}
