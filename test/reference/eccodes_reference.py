"""Reference GRIB2 files and their decode by ecCodes, the codec hrrr-embed's decoder is checked against.

usage: eccodes_reference.py OUTDIR HRRR_TEMPLATE [REAL_FILE ...]

Writes to OUTDIR, with Debian's python3-eccodes:
  - fixtures NAME.grib2 packed by ecCodes from a synthetic reflectivity-like field on the HRRR
    Lambert grid (the grid copied from HRRR_TEMPLATE, a real HRRR message), one per packing, with
    and without a bitmap, plus a latitude/longitude grid, an accumulation (template 4.8) and a
    file of several messages;
  - for each fixture and each REAL_FILE, NAME.N.json (ecCodes's keys of message N) and
    NAME.N.f32 (ecCodes's values of message N rounded to little-endian float32, NaN where missing).
"""
import json
import os
import shutil
import sys

import eccodes as ec
import numpy as np

NY, NX = 1059, 1799
MISSING = 9.999e20

KEYS = [
    # sections 0 and 1
    'discipline', 'editionNumber', 'totalLength', 'centre', 'subCentre', 'tablesVersion',
    'localTablesVersion', 'significanceOfReferenceTime', 'dataDate', 'dataTime',
    'productionStatusOfProcessedData', 'typeOfProcessedData',
    # section 3
    'sourceOfGridDefinition', 'numberOfDataPoints', 'gridDefinitionTemplateNumber',
    'shapeOfTheEarth', 'scaleFactorOfRadiusOfSphericalEarth', 'scaledValueOfRadiusOfSphericalEarth',
    'scaleFactorOfEarthMajorAxis', 'scaledValueOfEarthMajorAxis', 'scaleFactorOfEarthMinorAxis',
    'scaledValueOfEarthMinorAxis', 'Nx', 'Ny', 'Ni', 'Nj', 'basicAngleOfTheInitialProductionDomain',
    'subdivisionsOfBasicAngle', 'latitudeOfFirstGridPoint', 'longitudeOfFirstGridPoint',
    'resolutionAndComponentFlags', 'latitudeOfLastGridPoint', 'longitudeOfLastGridPoint',
    'iDirectionIncrement', 'jDirectionIncrement', 'LaD', 'LoV', 'Dx', 'Dy', 'projectionCentreFlag',
    'scanningMode', 'iScansNegatively', 'jScansPositively', 'jPointsAreConsecutive',
    'alternativeRowScanning', 'Latin1', 'Latin2', 'latitudeOfSouthernPole', 'longitudeOfSouthernPole',
    'latitudeOfFirstGridPointInDegrees', 'longitudeOfFirstGridPointInDegrees',
    'latitudeOfLastGridPointInDegrees', 'longitudeOfLastGridPointInDegrees',
    'iDirectionIncrementInDegrees', 'jDirectionIncrementInDegrees', 'LaDInDegrees', 'LoVInDegrees',
    'DxInMetres', 'DyInMetres', 'Latin1InDegrees', 'Latin2InDegrees',
    'latitudeOfSouthernPoleInDegrees', 'longitudeOfSouthernPoleInDegrees',
    # section 4
    'productDefinitionTemplateNumber', 'parameterCategory', 'parameterNumber',
    'typeOfGeneratingProcess', 'backgroundProcess', 'generatingProcessIdentifier',
    'hoursAfterDataCutoff', 'minutesAfterDataCutoff', 'indicatorOfUnitOfTimeRange', 'forecastTime',
    'typeOfFirstFixedSurface', 'scaleFactorOfFirstFixedSurface', 'scaledValueOfFirstFixedSurface',
    'typeOfSecondFixedSurface', 'scaleFactorOfSecondFixedSurface', 'scaledValueOfSecondFixedSurface',
    'validityDate', 'validityTime', 'numberOfTimeRange', 'numberOfMissingInStatisticalProcess',
    'typeOfStatisticalProcessing', 'lengthOfTimeRange', 'indicatorOfUnitForTimeRange',
    # section 5
    'numberOfValues', 'dataRepresentationTemplateNumber', 'referenceValue', 'binaryScaleFactor',
    'decimalScaleFactor', 'bitsPerValue', 'typeOfOriginalFieldValues', 'groupSplittingMethodUsed',
    'missingValueManagementUsed', 'numberOfGroupsOfDataValues', 'referenceForGroupWidths',
    'numberOfBitsUsedForTheGroupWidths', 'referenceForGroupLengths',
    'lengthIncrementForTheGroupLengths', 'trueLengthOfLastGroup',
    'numberOfBitsForScaledGroupLengths', 'orderOfSpatialDifferencing',
    'numberOfOctetsExtraDescriptors', 'typeOfCompressionUsed', 'targetCompressionRatio',
    # section 6
    'bitMapIndicator', 'numberOfMissing',
]


def reflectivity_like(seed):
    """dBZ on the HRRR grid: a -10 dBZ floor with storm cells, in steps of 1/16 dBZ like REFC."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:NY, 0:NX].astype(np.float32)
    field = np.full((NY, NX), -10.0, dtype=np.float32)
    for _ in range(40):
        cy, cx = rng.uniform(0, NY), rng.uniform(0, NX)
        radius = rng.uniform(5, 60)
        peak = rng.uniform(15, 65)
        cell = peak * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * radius ** 2))
        field = np.maximum(field, cell - 10 + rng.normal(0, 1.5, cell.shape) * (cell > 5))
    return np.round(np.clip(field, -10, 75) * 16) / 16


def with_values(template, packing, values, bits=12, bitmap=False):
    handle = ec.codes_clone(template)
    ec.codes_set_string(handle, 'packingType', packing)
    ec.codes_set_long(handle, 'bitsPerValue', bits)
    if bitmap:
        ec.codes_set_long(handle, 'bitmapPresent', 1)
        ec.codes_set_double(handle, 'missingValue', MISSING)
    ec.codes_set_values(handle, values.ravel())
    return handle


def write(path, *handles):
    with open(path, 'wb') as out:
        for handle in handles:
            ec.codes_write(handle, out)


def make_fixtures(outdir, hrrr_template_path):
    with open(hrrr_template_path, 'rb') as f:
        lambert = ec.codes_grib_new_from_file(f)
    field = reflectivity_like(1)
    no_radar = field.copy()
    no_radar[:200, :300] = MISSING  # a corner without radar coverage
    no_radar[700:720, :] = MISSING
    names = []
    for name, packing in [('simple', 'grid_simple'), ('complex', 'grid_complex'),
                          ('spatial', 'grid_complex_spatial_differencing'),
                          ('jpeg', 'grid_jpeg'), ('png', 'grid_png')]:
        write(f'{outdir}/{name}.grib2', with_values(lambert, packing, field))
        names.append(name)
        # ecCodes packs a bitmapped field into a PNG or JPEG 2000 image of one row of all values;
        # libpng refuses rows over a million and the JPEG 2000 codec over 65,535 samples: their
        # bitmap fixtures are on the smaller latitude/longitude grid below.
        if packing in ('grid_simple', 'grid_complex', 'grid_complex_spatial_differencing'):
            write(f'{outdir}/{name}-bitmap.grib2', with_values(lambert, packing, no_radar, bitmap=True))
            names.append(f'{name}-bitmap')
    write(f'{outdir}/jpeg-bitmap-wide.grib2', with_values(lambert, 'grid_jpeg', no_radar, bitmap=True))
    names.append('jpeg-bitmap-wide')

    write(f'{outdir}/png-4bit.grib2', with_values(lambert, 'grid_png', np.clip(np.round(field / 8), 0, 15), bits=4))
    write(f'{outdir}/constant.grib2', with_values(lambert, 'grid_simple', np.full(NY * NX, 3.5)))
    names += ['png-4bit', 'constant']

    latlon = ec.codes_grib_new_from_samples('regular_ll_sfc_grib2')
    for key, value in [('Ni', 360), ('Nj', 181), ('latitudeOfFirstGridPointInDegrees', -90),
                       ('latitudeOfLastGridPointInDegrees', 90), ('jScansPositively', 1),
                       ('iDirectionIncrementInDegrees', 1), ('jDirectionIncrementInDegrees', 1)]:
        (ec.codes_set_double if isinstance(value, float) else ec.codes_set)(latlon, key, value)
    ll_values = 250 + 40 * np.cos(np.radians(np.linspace(-90, 90, 181)))[:, None] + np.sin(np.radians(np.arange(360)))[None, :]
    write(f'{outdir}/latlon.grib2', with_values(latlon, 'grid_simple', ll_values, bits=16))
    ll_missing = ll_values.copy()
    ll_missing[20:60, 100:200] = MISSING
    write(f'{outdir}/png-bitmap.grib2', with_values(latlon, 'grid_png', ll_missing, bits=16, bitmap=True))
    write(f'{outdir}/jpeg-bitmap.grib2', with_values(latlon, 'grid_jpeg', ll_missing, bits=16, bitmap=True))
    names += ['latlon', 'png-bitmap', 'jpeg-bitmap']

    accumulation = ec.codes_clone(lambert)
    for key, value in [('indicatorOfUnitOfTimeRange', 1), ('forecastTime', 0),
                       ('productDefinitionTemplateNumber', 8), ('parameterCategory', 1), ('parameterNumber', 8),
                       ('typeOfFirstFixedSurface', 1), ('typeOfStatisticalProcessing', 1),
                       ('stepUnits', 1), ('stepRange', '2-5')]:
        ec.codes_set(accumulation, key, value)
    write(f'{outdir}/accumulation.grib2', with_values(accumulation, 'grid_complex', np.clip(field / 10, 0, None)))
    names.append('accumulation')

    write(f'{outdir}/several.grib2', with_values(lambert, 'grid_simple', field),
          with_values(latlon, 'grid_simple', ll_values, bits=16),
          with_values(lambert, 'grid_complex_spatial_differencing', reflectivity_like(2)))
    names.append('several')
    return [f'{outdir}/{name}.grib2' for name in names]


def dump(path, outdir):
    name = os.path.basename(path)[: -len('.grib2')] if path.endswith('.grib2') else os.path.basename(path)
    with open(path, 'rb') as f:
        index = 0
        while True:
            handle = ec.codes_grib_new_from_file(f)
            if handle is None:
                break
            keys = {'offset': ec.codes_get_long(handle, 'offset')}
            for key in KEYS:
                try:
                    if ec.codes_is_defined(handle, key) and not ec.codes_is_missing(handle, key):
                        native = ec.codes_get_native_type(handle, key)
                        keys[key] = ec.codes_get_double(handle, key) if native is float else ec.codes_get_long(handle, key)
                except ec.GribInternalError:
                    pass
            ec.codes_set_double(handle, 'missingValue', MISSING)
            values = ec.codes_get_values(handle)
            values[values == MISSING] = np.nan
            with open(f'{outdir}/{name}.{index}.json', 'w') as out:
                json.dump(keys, out)
            values.astype('<f4').tofile(f'{outdir}/{name}.{index}.f32')
            index += 1


def main():
    outdir, template, *real_files = sys.argv[1:]
    os.makedirs(outdir, exist_ok=True)
    fixtures = make_fixtures(outdir, template)
    for path in real_files:
        shutil.copyfile(path, f'{outdir}/{os.path.basename(path)}')
    for path in fixtures + [f'{outdir}/{os.path.basename(p)}' for p in real_files]:
        dump(path, outdir)


if __name__ == '__main__':
    main()
