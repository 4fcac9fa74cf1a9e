import type { SectionOctets } from '../octets.js';

/** Octets 15-30 of grid templates 3.0 and 3.30: the figure of the Earth (code table 3.2). */
export interface EarthShape {
  shapeOfTheEarth: number;
  scaleFactorOfRadiusOfSphericalEarth: number;
  scaledValueOfRadiusOfSphericalEarth: number;
  scaleFactorOfEarthMajorAxis: number;
  scaledValueOfEarthMajorAxis: number;
  scaleFactorOfEarthMinorAxis: number;
  scaledValueOfEarthMinorAxis: number;
  /** Radius of a spherical Earth in metres, where code table 3.2 defines one. */
  radiusInMetres: number | undefined;
}

const RADIUS_BY_SHAPE: Record<number, number> = { 0: 6_367_470, 6: 6_371_229, 8: 6_371_200 };

export function readEarthShape(octets: SectionOctets): EarthShape {
  const shapeOfTheEarth = octets.u8(15);
  const scaleFactorOfRadiusOfSphericalEarth = octets.u8(16);
  const scaledValueOfRadiusOfSphericalEarth = octets.u32(17);
  return {
    shapeOfTheEarth,
    scaleFactorOfRadiusOfSphericalEarth,
    scaledValueOfRadiusOfSphericalEarth,
    scaleFactorOfEarthMajorAxis: octets.u8(21),
    scaledValueOfEarthMajorAxis: octets.u32(22),
    scaleFactorOfEarthMinorAxis: octets.u8(26),
    scaledValueOfEarthMinorAxis: octets.u32(27),
    radiusInMetres:
      shapeOfTheEarth === 1
        ? scaledValueOfRadiusOfSphericalEarth / 10 ** scaleFactorOfRadiusOfSphericalEarth
        : RADIUS_BY_SHAPE[shapeOfTheEarth],
  };
}
