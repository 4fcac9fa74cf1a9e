"""ecCodes's decode of GRIB2 files, to check what hrrr-embed's writer produces against the reference codec.

usage: eccodes_decode.py FILE OUT.f32 [FILE OUT.f32 ...]

Each FILE must hold one message. Writes its values to OUT.f32 as little-endian float32, NaN where
ecCodes reports them missing, and prints one JSON object per line: FILE's keys as ecCodes reads them.
"""
import json
import sys

import eccodes as ec
import numpy as np

MISSING = 9.999e20
STRING_KEYS = {'shortName'}

KEYS = [
    'discipline', 'totalLength', 'centre', 'subCentre', 'dataDate', 'dataTime', 'shortName',
    'gridDefinitionTemplateNumber', 'numberOfDataPoints', 'Nx', 'Ny', 'Ni', 'Nj', 'shapeOfTheEarth',
    'latitudeOfFirstGridPointInDegrees', 'longitudeOfFirstGridPointInDegrees',
    'latitudeOfLastGridPointInDegrees', 'longitudeOfLastGridPointInDegrees',
    'iDirectionIncrementInDegrees', 'jDirectionIncrementInDegrees',
    'LaDInDegrees', 'LoVInDegrees', 'Latin1InDegrees', 'Latin2InDegrees', 'DxInMetres', 'DyInMetres',
    'resolutionAndComponentFlags', 'scanningMode',
    'productDefinitionTemplateNumber', 'parameterCategory', 'parameterNumber', 'forecastTime',
    'indicatorOfUnitOfTimeRange', 'typeOfFirstFixedSurface', 'scaledValueOfFirstFixedSurface',
    'numberOfValues', 'dataRepresentationTemplateNumber', 'referenceValue', 'binaryScaleFactor',
    'decimalScaleFactor', 'bitsPerValue', 'missingValueManagementUsed', 'numberOfGroupsOfDataValues',
    'orderOfSpatialDifferencing', 'numberOfOctetsExtraDescriptors', 'bitMapIndicator',
]


def decode(path, out_path):
    with open(path, 'rb') as f:
        handle = ec.codes_grib_new_from_file(f)
        if handle is None or ec.codes_grib_new_from_file(f) is not None:
            raise SystemExit(f'{path}: expected exactly one GRIB message')
    keys = {'file': path}
    for key in KEYS:
        if not ec.codes_is_defined(handle, key) or ec.codes_is_missing(handle, key):
            continue
        if key in STRING_KEYS:
            keys[key] = ec.codes_get_string(handle, key)
        elif ec.codes_get_native_type(handle, key) is float:
            keys[key] = ec.codes_get_double(handle, key)
        else:
            keys[key] = ec.codes_get_long(handle, key)
    ec.codes_set_double(handle, 'missingValue', MISSING)
    values = ec.codes_get_values(handle)
    values[values == MISSING] = np.nan
    values.astype('<f4').tofile(out_path)
    print(json.dumps(keys), flush=True)


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        raise SystemExit(__doc__)
    for path, out_path in zip(args[::2], args[1::2]):
        decode(path, out_path)


if __name__ == '__main__':
    main()
