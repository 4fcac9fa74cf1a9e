"""The seed article's model input, made from a GRIB2 file by its own recipe, to check hrrr-embed's normalize stage against.

usage: article_normalize.py FILE OUT.f32

The first message of FILE as the article's code reads it (hrrr_to_tfrecord.py through cfgrib, which
gives ecCodes's values as stored, shaped (y, x): row 0 is the first stored row, the south for
HRRR's scanning mode 64), then np.nan_to_num, np.clip to [0, 60], / 60. in float32
(train_autoencoder.py's parse_tfrecord) and Cropping2D(((17, 18), (4, 3))). Writes the 1024 x 1792
crop to OUT.f32 as little-endian float32, row after row, and prints a JSON line of facts about the
field: scanning mode, the latitude of the crop's first and last row in the middle column, the
share of values below 0 dBZ and the number missing inside the crop.
"""
import json
import sys

import eccodes as ec
import numpy as np

MISSING = 9.999e20
TOP, BOTTOM, LEFT, RIGHT = 17, 18, 4, 3

path, out = sys.argv[1], sys.argv[2]
with open(path, 'rb') as f:
    handle = ec.codes_grib_new_from_file(f)
ec.codes_set(handle, 'missingValue', MISSING)
ny, nx = ec.codes_get(handle, 'Ny'), ec.codes_get(handle, 'Nx')
values = ec.codes_get_values(handle)
missing = values == MISSING
values = values.astype(np.float32)
values[missing] = np.nan
latitudes = ec.codes_get_array(handle, 'latitudes').reshape(ny, nx)

field = np.clip(np.nan_to_num(values.reshape(ny, nx)), 0, 60) / np.float32(60)
crop = field[TOP:ny - BOTTOM, LEFT:nx - RIGHT]
crop.astype('<f4').tofile(out)
print(json.dumps({
    'scanningMode': ec.codes_get(handle, 'scanningMode'),
    'firstRowLatitude': latitudes[TOP, nx // 2],
    'lastRowLatitude': latitudes[ny - BOTTOM - 1, nx // 2],
    'belowZero': float(np.mean(values < 0)),
    'missingInCrop': int(missing.reshape(ny, nx)[TOP:ny - BOTTOM, LEFT:nx - RIGHT].sum()),
}))
ec.codes_release(handle)
