/** Flag table 3.4, the scanning mode: how the stored values walk the grid. */
export interface ScanningMode {
  /** Bit 1: rows run east to west (-i). */
  iScansNegatively: boolean;
  /** Bit 2: the first row is the southernmost (+j); otherwise the northernmost. */
  jScansPositively: boolean;
  /** Bit 3: values run along columns (j) first instead of along rows (i). */
  jPointsAreConsecutive: boolean;
  /** Bit 4: every other row runs the opposite way (boustrophedon). */
  alternativeRowScanning: boolean;
}

export function decodeScanningMode(flags: number): ScanningMode {
  return {
    iScansNegatively: (flags & 0x80) !== 0,
    jScansPositively: (flags & 0x40) !== 0,
    jPointsAreConsecutive: (flags & 0x20) !== 0,
    alternativeRowScanning: (flags & 0x10) !== 0,
  };
}
