"""ecCodes's side of `npm run bench -- decode`, used only when bench/eccodes_decode.c cannot be compiled.

usage: eccodes_decode.py MESSAGE_FILE WARMUP RUNS [VALUES_OUT]

Same interface and output as eccodes_decode.c (one JSON line, "impl": "python"), with Debian's
python3-eccodes: each timed run is codes_new_from_message + codes_get_double_array("values") +
codes_release. The Python layer copies the message and the values once more than C does, so its
timings are an upper bound on ecCodes's own.
"""
import json
import sys
import time

import eccodes as ec


def decode(message):
    h = ec.codes_new_from_message(message)
    try:
        return ec.codes_get_double_array(h, 'values')
    finally:
        ec.codes_release(h)


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__.splitlines()[2], file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[1], 'rb') as f:
        message = f.read()
    warmup, runs = int(sys.argv[2]), int(sys.argv[3])
    values = None
    for _ in range(warmup):
        values = decode(message)
    timings = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        values = decode(message)
        timings.append((time.perf_counter_ns() - start) / 1e6)
    h = ec.codes_new_from_message(message)
    missing_value = ec.codes_get_double(h, 'missingValue')
    bitmap_present = ec.codes_get_long(h, 'bitmapPresent')
    ec.codes_release(h)
    if len(sys.argv) == 5:
        values.astype('=f8').tofile(sys.argv[4])
    print(json.dumps({
        'impl': 'python',
        'eccodesVersion': ec.codes_get_api_version(),
        'points': len(values),
        'missingValue': missing_value,
        'bitmapPresent': bitmap_present,
        'timingsMs': timings,
    }))


if __name__ == '__main__':
    main()
