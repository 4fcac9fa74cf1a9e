/**
 * Short names of the parameters HRRR publishes, as NCEP writes them in .idx files and wgrib2
 * prints them (WMO code table 4.2; numbers 192 and up are NCEP's local entries, so they are
 * named only for centre 7, NCEP).
 */
export interface ParameterName {
  shortName: string;
  name: string;
  units: string;
}

const WMO: Record<string, ParameterName> = {
  '0/0/0': { shortName: 'TMP', name: 'Temperature', units: 'K' },
  '0/0/6': { shortName: 'DPT', name: 'Dew point temperature', units: 'K' },
  '0/1/0': { shortName: 'SPFH', name: 'Specific humidity', units: 'kg kg-1' },
  '0/1/1': { shortName: 'RH', name: 'Relative humidity', units: '%' },
  '0/1/3': { shortName: 'PWAT', name: 'Precipitable water', units: 'kg m-2' },
  '0/1/7': { shortName: 'PRATE', name: 'Precipitation rate', units: 'kg m-2 s-1' },
  '0/1/8': { shortName: 'APCP', name: 'Total precipitation', units: 'kg m-2' },
  '0/2/1': { shortName: 'WIND', name: 'Wind speed', units: 'm s-1' },
  '0/2/2': { shortName: 'UGRD', name: 'U-component of wind', units: 'm s-1' },
  '0/2/3': { shortName: 'VGRD', name: 'V-component of wind', units: 'm s-1' },
  '0/2/22': { shortName: 'GUST', name: 'Wind speed (gust)', units: 'm s-1' },
  '0/3/0': { shortName: 'PRES', name: 'Pressure', units: 'Pa' },
  '0/3/1': { shortName: 'PRMSL', name: 'Pressure reduced to MSL', units: 'Pa' },
  '0/3/5': { shortName: 'HGT', name: 'Geopotential height', units: 'gpm' },
  '0/6/1': { shortName: 'TCDC', name: 'Total cloud cover', units: '%' },
  '0/7/6': { shortName: 'CAPE', name: 'Convective available potential energy', units: 'J kg-1' },
  '0/7/7': { shortName: 'CIN', name: 'Convective inhibition', units: 'J kg-1' },
  '0/7/8': { shortName: 'HLCY', name: 'Storm relative helicity', units: 'm2 s-2' },
  '0/19/0': { shortName: 'VIS', name: 'Visibility', units: 'm' },
};

const NCEP_LOCAL: Record<string, ParameterName> = {
  '0/1/192': { shortName: 'CRAIN', name: 'Categorical rain', units: 'code' },
  '0/3/196': { shortName: 'HPBL', name: 'Planetary boundary layer height', units: 'm' },
  '0/4/200': { shortName: 'VBDSF', name: 'Visible beam downward solar flux', units: 'W m-2' },
  '0/16/195': { shortName: 'REFD', name: 'Reflectivity', units: 'dB' },
  '0/16/196': { shortName: 'REFC', name: 'Composite reflectivity', units: 'dB' },
  '0/16/197': { shortName: 'RETOP', name: 'Echo top', units: 'm' },
  '0/17/192': { shortName: 'LTNG', name: 'Lightning', units: 'non-dim' },
  '3/192/0': { shortName: 'SBT122', name: 'Simulated brightness temperature for GOES 12, channel 2', units: 'K' },
  '3/192/1': { shortName: 'SBT123', name: 'Simulated brightness temperature for GOES 12, channel 3', units: 'K' },
  '3/192/2': { shortName: 'SBT124', name: 'Simulated brightness temperature for GOES 12, channel 4', units: 'K' },
};

const NCEP_CENTRE = 7;

export function parameterName(discipline: number, category: number, number: number, centre: number): ParameterName {
  const key = `${discipline}/${category}/${number}`;
  const isLocal = category >= 192 || number >= 192;
  const known = isLocal ? (centre === NCEP_CENTRE ? NCEP_LOCAL[key] : undefined) : WMO[key];
  return known ?? { shortName: `VAR${discipline}-${category}-${number}`, name: 'unknown', units: 'unknown' };
}
