/* prime_kernel.c: the micro-benchmark of mr__is_prime_u64, the kernel of
 * the prime job, on one core (bench/prime_kernel.sh runs it side by side
 * with Math::Prime::Util).
 *   prime_kernel gen random|primes COUNT SEED   numbers near 2^62 on stdout
 *   prime_kernel time FILE                      one timed pass over FILE
 * `gen primes` takes its primes from GMP, not from the kernel under test.
 * `time` prints: items, CPU seconds, items per second, primes found. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <gmp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prime.h"

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/* uniform in [2^62 - 2^56, 2^62 + 2^56) */
static uint64_t near_2_62(uint64_t *s) {
  return (UINT64_C(1) << 62) - (UINT64_C(1) << 56) +
         (splitmix64(s) >> (64 - 57));
}

static int gen(const char *kind, long count, uint64_t seed) {
  int primes = strcmp(kind, "primes") == 0;
  if (!primes && strcmp(kind, "random") != 0) return 2;
  mpz_t z;
  mpz_init(z);
  for (long i = 0; i < count; i++) {
    uint64_t n = near_2_62(&seed);
    if (primes) {
      mpz_set_ui(z, n); /* unsigned long is 64 bits on this platform */
      mpz_nextprime(z, z);
      n = mpz_get_ui(z);
    }
    printf("%" PRIu64 "\n", n);
  }
  mpz_clear(z);
  return 0;
}

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int time_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    return 1;
  }
  size_t len = 0, cap = 1 << 20;
  uint64_t *v = malloc(cap * sizeof *v);
  uint64_t x;
  while (v && fscanf(f, "%" SCNu64, &x) == 1) {
    if (len == cap) {
      uint64_t *w = realloc(v, 2 * cap * sizeof *v);
      if (!w) break;
      v = w;
      cap *= 2;
    }
    v[len++] = x;
  }
  fclose(f);
  if (!v) return 1;
  double t0 = cpu_seconds();
  long found = 0;
  for (size_t i = 0; i < len; i++) found += mr__is_prime_u64(v[i]);
  double t = cpu_seconds() - t0;
  printf("%zu %.6f %.0f %ld\n", len, t, (double)len / t, found);
  free(v);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "gen") == 0)
    return gen(argv[2], atol(argv[3]), strtoull(argv[4], NULL, 10));
  if (argc == 3 && strcmp(argv[1], "time") == 0) return time_file(argv[2]);
  fprintf(stderr,
          "usage: prime_kernel gen random|primes COUNT SEED\n"
          "       prime_kernel time FILE\n");
  return 2;
}
