/* prime.c: the `prime` job. Is the item a prime number? true/false.
 * 64-bit numbers: trial division by small primes, then Miller-Rabin in
 * Montgomery arithmetic with a base set proven for all n < 2^64, so the
 * answer is exact. Larger numbers: GMP's mpz_probab_prime_p, which runs
 * Baillie-PSW (no known counterexample) plus extra Miller-Rabin rounds. */
#include "prime.h"

#include <stdlib.h>

#include "num.h"

/* n^-1 mod 2^64 for odd n (Newton's iteration doubles the correct bits) */
static inline uint64_t mont_inverse(uint64_t n) {
  uint64_t x = (3 * n) ^ 2; /* 5 bits */
  x *= 2 - n * x;
  x *= 2 - n * x;
  x *= 2 - n * x;
  x *= 2 - n * x; /* 80 bits */
  return x;
}

/* a*b/2^64 mod n, for a, b < n and odd n */
static inline uint64_t mont_mul(uint64_t a, uint64_t b, uint64_t n,
                                uint64_t ninv) {
  unsigned __int128 t = (unsigned __int128)a * b;
  uint64_t lo = (uint64_t)t, hi = (uint64_t)(t >> 64);
  uint64_t m = lo * ninv;
  uint64_t mn = (uint64_t)(((unsigned __int128)m * n) >> 64);
  return hi >= mn ? hi - mn : hi - mn + n;
}

static inline uint64_t to_mont(uint64_t a, uint64_t n) {
  return (uint64_t)(((unsigned __int128)a << 64) % n);
}

/* Strong probable prime to base a (a reduced mod n, nonzero), n odd > 3. */
static int sprp(uint64_t n, uint64_t a, uint64_t ninv, uint64_t one,
                uint64_t d, int s) {
  uint64_t minus_one = n - one;
  uint64_t x = one, b = to_mont(a, n);
  for (uint64_t e = d; e; e >>= 1) { /* right-to-left powering */
    if (e & 1) x = mont_mul(x, b, n, ninv);
    b = mont_mul(b, b, n, ninv);
  }
  if (x == one || x == minus_one) return 1;
  for (int i = 1; i < s; i++) {
    x = mont_mul(x, x, n, ninv);
    if (x == minus_one) return 1;
    if (x == one) return 0;
  }
  return 0;
}

int mr_is_prime_u64(uint64_t n) {
  if (n < 64) return (int)((0x28208a20a08a28acull >> n) & 1);
  if (!(n & 1)) return 0;
  static const uint8_t small[] = {3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37,
                                  41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83,
                                  89, 97, 101, 103, 107, 109, 113, 127, 131,
                                  137, 139, 149, 151, 157, 163, 167, 173, 179,
                                  181, 191, 193, 197, 199, 211, 223, 227, 229,
                                  233, 239, 241, 251};
  for (size_t i = 0; i < sizeof small; i++)
    if (n % small[i] == 0) return n == small[i];
  if (n < 257u * 257u) return 1;
  uint64_t d = n - 1;
  int s = __builtin_ctzll(d);
  d >>= s;
  uint64_t ninv = mont_inverse(n);
  /* ninv above is n^-1; mont_mul wants m = lo * n^-1, which it is */
  uint64_t one = (uint64_t)(-n) % n; /* 2^64 mod n */
  if (n < 4759123141ull) { /* Jaeschke: 2, 7, 61 suffice */
    static const uint64_t b32[] = {2, 7, 61};
    for (int i = 0; i < 3; i++)
      if (!sprp(n, b32[i], ninv, one, d, s)) return 0;
    return 1;
  }
  /* Sinclair's seven bases: exact for every n < 2^64 */
  static const uint64_t b64[] = {2,      325,     9375,      28178,
                                 450775, 9780504, 1795265022};
  for (int i = 0; i < 7; i++) {
    uint64_t a = b64[i] % n;
    if (a && !sprp(n, a, ninv, one, d, s)) return 0;
  }
  return 1;
}

typedef struct prime_state {
  mpz_t z;
} prime_state;

static int prime_init(void **state, const char *arg) {
  (void)arg;
  prime_state *p = malloc(sizeof *p);
  if (!p) return MR_ENOMEM;
  mpz_init(p->z);
  *state = p;
  return 0;
}

static void prime_fini(void *state) {
  prime_state *p = state;
  mpz_clear(p->z);
  free(p);
}

static int prime_run(void *state, const char *item, size_t len, mr_buf *out) {
  mr_int v;
  if (num_parse(item, len, &v, out)) return MR_EINVAL;
  int prime;
  if (v.neg) {
    prime = 0;
  } else if (v.fits) {
    prime = mr_is_prime_u64(v.mag);
  } else {
    prime_state *p = state;
    num_to_mpz(&v, p->z);
    prime = mpz_probab_prime_p(p->z, 30) > 0;
  }
  return prime ? mr_buf_append(out, "true", 4) : mr_buf_append(out, "false", 5);
}

const mr_job mr_job_prime = {
    MR_ABI_VERSION, "prime", "is the integer prime? true/false (exact)",
    prime_init, prime_run, prime_fini};
