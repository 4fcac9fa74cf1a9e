/*
 * ecCodes's side of `npm run bench -- decode`: times ecCodes decoding one GRIB2 message.
 *
 * usage: eccodes_decode MESSAGE_FILE WARMUP RUNS [VALUES_OUT]
 *
 * MESSAGE_FILE holds the bytes of exactly one GRIB2 message. Each run, timed with
 * clock_gettime(CLOCK_MONOTONIC), goes from the bytes in memory to an array of all the values:
 * codes_handle_new_from_message (no copy of the bytes, as our decoder reads them in place),
 * codes_get_size + codes_get_double_array("values"), then the handle and the array are freed.
 * WARMUP untimed runs come first. When VALUES_OUT is given, one more decode writes the values
 * there as native float64 for the benchmark's check that both decoders agree. Freed memory is
 * kept in the heap between runs (mallopt below), as in a long-running process.
 *
 * Prints one JSON line: {"impl":"c", "eccodesVersion", "points", "missingValue",
 * "bitmapPresent", "timingsMs": [...]}.
 *
 * Built by bench/decode.ts on first use: cc -O2 -o .work/bench/eccodes_decode-HASH eccodes_decode.c -leccodes
 */
#define _POSIX_C_SOURCE 199309L
#include <eccodes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void fail(const char *what, int err) {
  fprintf(stderr, "eccodes_decode: %s: %s\n", what, err ? codes_get_error_message(err) : "failed");
  exit(1);
}

/* One decode, bytes to values; returns the number of values, hands the array to *out or frees it. */
static size_t decode(const void *message, size_t length, double **out, codes_handle **keep) {
  codes_handle *h = codes_handle_new_from_message(NULL, message, length);
  if (!h) fail("codes_handle_new_from_message", 0);
  size_t size = 0;
  int err = codes_get_size(h, "values", &size);
  if (err) fail("codes_get_size(values)", err);
  double *values = malloc(size * sizeof(double));
  if (!values) fail("malloc", 0);
  err = codes_get_double_array(h, "values", values, &size);
  if (err) fail("codes_get_double_array(values)", err);
  if (out) *out = values;
  else free(values);
  if (keep) *keep = h;
  else codes_handle_delete(h);
  return size;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: %s MESSAGE_FILE WARMUP RUNS [VALUES_OUT]\n", argv[0]);
    return 2;
  }
#ifdef __GLIBC__
  /* Keep freed memory in the heap, as a long-running process (Node, Python) effectively does:
   * with glibc's defaults each run's ~30 MB of buffers (the values, ecCodes's scratch arrays) go
   * back to the kernel at free and come back as ~7,000 fresh page faults per decode, which more
   * than doubles the time measured here without being any of ecCodes's own work. */
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
  int warmup = atoi(argv[2]);
  int runs = atoi(argv[3]);
  if (warmup < 0 || runs < 1) {
    fprintf(stderr, "eccodes_decode: WARMUP must be >= 0 and RUNS >= 1\n");
    return 2;
  }

  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long length = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *message = malloc((size_t)length);
  if (!message || fread(message, 1, (size_t)length, f) != (size_t)length) fail("reading the message", 0);
  fclose(f);

  size_t points = 0;
  for (int i = 0; i < warmup; i++) points = decode(message, (size_t)length, NULL, NULL);
  double *timings = malloc((size_t)runs * sizeof(double));
  for (int i = 0; i < runs; i++) {
    double start = now_ms();
    points = decode(message, (size_t)length, NULL, NULL);
    timings[i] = now_ms() - start;
  }

  double missingValue = 0;
  long bitmapPresent = 0;
  {
    double *values = NULL;
    codes_handle *h = NULL;
    decode(message, (size_t)length, &values, &h);
    codes_get_double(h, "missingValue", &missingValue);
    codes_get_long(h, "bitmapPresent", &bitmapPresent);
    if (argc == 5) {
      FILE *o = fopen(argv[4], "wb");
      if (!o || fwrite(values, sizeof(double), points, o) != points || fclose(o) != 0) fail("writing the values", 0);
    }
    free(values);
    codes_handle_delete(h);
  }

  long version = codes_get_api_version(); /* of the library linked at run time, e.g. 22800 */
  printf("{\"impl\":\"c\",\"eccodesVersion\":\"%ld.%ld.%ld\",\"points\":%zu,\"missingValue\":%.17g,\"bitmapPresent\":%ld,\"timingsMs\":[",
         version / 10000, version / 100 % 100, version % 100, points, missingValue, bitmapPresent);
  for (int i = 0; i < runs; i++) printf("%s%.6f", i ? "," : "", timings[i]);
  printf("]}\n");
  free(timings);
  free(message);
  return 0;
}
