/* test_prime.c: mr__is_prime_u64 against a sieve, GMP and lists of
 * pseudoprimes; each half of Baillie-PSW against the numbers that fool the
 * other half. */
#include <gmp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "prime.h"

static uint64_t rng = 20240611;

static uint64_t rand64(void) { /* splitmix64 */
  uint64_t z = (rng += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static int gmp_is_prime(uint64_t n) {
  mpz_t z;
  mpz_init_set_ui(z, n); /* unsigned long is 64 bits here */
  int r = mpz_probab_prime_p(z, 50) > 0;
  mpz_clear(z);
  return r;
}

static uint64_t gmp_next_prime(uint64_t n) {
  mpz_t z;
  mpz_init_set_ui(z, n);
  mpz_nextprime(z, z);
  uint64_t p = mpz_get_ui(z);
  mpz_clear(z);
  return p;
}

/* the numbers mr__prime_* accept: odd, > 256^2, no prime factor below 257 */
static int reaches_bpsw(uint64_t n) {
  if (n <= 256 * 256 || !(n & 1)) return 0;
  for (uint64_t p = 3; p < 257; p += 2)
    if (n % p == 0) return 0;
  return 1;
}

static void assert_prime(uint64_t n, int expected) {
  if (mr__is_prime_u64(n) != expected)
    fail_msg("mr__is_prime_u64(%llu) is not %d", (unsigned long long)n,
             expected);
}

static void test_below_one_million(void **state) {
  (void)state;
  enum { N = 1000000 };
  char *composite = calloc(N, 1);
  assert_non_null(composite);
  composite[0] = composite[1] = 1;
  for (size_t i = 2; i * i < N; i++)
    if (!composite[i])
      for (size_t j = i * i; j < N; j += i) composite[j] = 1;
  for (uint64_t n = 0; n < N; n++) assert_prime(n, !composite[n]);
  free(composite);
}

/* Strong pseudoprimes to base 2 (OEIS A001262) without a prime factor below
 * 257, so that the Lucas half must reject them; some are also strong
 * pseudoprimes to many more bases (A014233). */
static const uint64_t spsp2[] = {
    280601,   /* 277 * 1013 */
    390937,   /* 313 * 1249 */
    458989,   /* 277 * 1657 */
    514447,   /* 359 * 1433 */
    1082401,  /* 601 * 1801 */
    1194649,  /* 1093^2, a square */
    5173169,  /* 1093 * 4733 */
    7462001,  /* 911 * 8191 */
    12327121, /* 3511^2, a square */
    16773121, /* 433 * 38737 */
    22849481, /* 311 * 73471 */
    2152302898747ull,       /* 6763 * 10627 * 29947: bases 2..11 */
    3474749660383ull,       /* 1303 * 16927 * 157543: bases 2..13 */
    341550071728321ull,     /* 10670053 * 32010157: bases 2..17 */
    3825123056546413051ull, /* 149491 * 747451 * 34233211: bases 2..23 */
    9223378056252423253ull,  /* 2147484349 * 4294968697 */
    9223393930463559421ull,  /* 2147486197 * 4294972393 */
    9223426091244877021ull,  /* 2147489941 * 4294979881 */
    13281687802580242753ull, /* 2576983489 * 5153966977 (above 2^63) */
    13281692131912856653ull, /* 2576983909 * 5153967817 */
    13281808900464377101ull, /* 2576995237 * 5153990473 */
};

/* Extra strong Lucas pseudoprimes for Baillie's parameter (OEIS A217719)
 * without a prime factor below 257: the base-2 half must reject them. */
static const uint64_t eslpsp[] = {
    137549,  /* 263 * 523 */
    161027,  /* 283 * 569 */
    189419,  /* 307 * 617 */
    231703,  /* 263 * 881 */
    370229,  /* 431 * 859 */
    920831,  /* 257 * 3583 */
    1351739, /* 1039 * 1301 */
    2211631, /* 271 * 8161 */
    2975549, /* 1493 * 1993 */
    3115589, /* 509 * 6121 */
};

/* Almost extra strong Lucas pseudoprimes that the extra strong test
 * rejects: V_s = +-2 but U_s != 0 */
static const uint64_t aeslpsp[] = {
    72477481, /* 307^2 * 769 */
    95766017, /* 317^2 * 953 */
};

/* Strong pseudoprimes to base 2 with small factors, and Carmichael
 * numbers, some with only large factors */
static const uint64_t other_composites[] = {
    2047, 3277, 4033, 4681, 8321, 15841, 29341, 42799, 49141, 52633,
    3215031751ull, /* 151 * 751 * 28351: bases 2..7 */
    4759123141ull, /* 48781 * 97561: bases 2, 7, 61 */
    1122004669633ull, /* bases 2, 13, 23, 1662803 */
    561, 1105, 1729, 2465, 2821, 6601, 8911, 41041, 62745, 825265,
    321197185, 5394826801ull, 232250619601ull, 9746347772161ull,
    1436697831295441ull, 60977817398996785ull, 7156857700403137441ull,
    18349357898532971521ull, /* 1451521 * 2903041 * 4354561 */
    18178322015949081769ull, /* 1446997 * 2893993 * 4340989 */
};

static void test_pseudoprimes(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof spsp2 / sizeof spsp2[0]; i++) {
    uint64_t n = spsp2[i];
    assert_true(reaches_bpsw(n));
    assert_prime(n, 0);
    uint64_t p = mr__prime_lucas_param(n);
    if (p == 0) continue; /* the squares */
    assert_true(p > 1);
    assert_int_equal(mr__prime_bpsw(n, p), 1); /* base 2 passes */
    assert_int_equal(mr__prime_sinclair(n), 0);
  }
  for (size_t i = 0; i < sizeof eslpsp / sizeof eslpsp[0]; i++) {
    uint64_t n = eslpsp[i];
    assert_true(reaches_bpsw(n));
    assert_prime(n, 0);
    uint64_t p = mr__prime_lucas_param(n);
    assert_true(p > 1);
    assert_int_equal(mr__prime_bpsw(n, p), 2); /* Lucas passes */
    assert_int_equal(mr__prime_sinclair(n), 0);
  }
  for (size_t i = 0; i < sizeof aeslpsp / sizeof aeslpsp[0]; i++) {
    uint64_t n = aeslpsp[i];
    assert_true(reaches_bpsw(n));
    assert_prime(n, 0);
    assert_int_equal(mr__prime_bpsw(n, mr__prime_lucas_param(n)) & 2, 0);
  }
  for (size_t i = 0; i < sizeof other_composites / sizeof other_composites[0];
       i++)
    assert_prime(other_composites[i], 0);
}

/* squares have no Lucas parameter; trial division stops at 251 */
static void test_squares(void **state) {
  (void)state;
  static const uint64_t roots[] = {257, 65521, 65537, 1000003, 2147483647,
                                   4294967291u, 4294967279u};
  for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
    uint64_t n = roots[i] * roots[i];
    assert_prime(n, 0);
    assert_int_equal(mr__prime_lucas_param(n), 0);
    assert_prime(n - 2, gmp_is_prime(n - 2));
    assert_prime(n + 2, gmp_is_prime(n + 2));
  }
  for (int i = 0; i < 200; i++) {
    uint64_t p = gmp_next_prime(rand64() >> 32);
    assert_prime(p * p, 0);
  }
  assert_prime(257 * 263, 0);
  assert_prime(65537 * 65539ull, 0);
}

/* products of two primes near 2^32, and primes around them */
static void test_near_2_32(void **state) {
  (void)state;
  uint64_t p = gmp_next_prime((UINT64_C(1) << 32) - (UINT64_C(1) << 28));
  for (int i = 0; i < 300; i++) { /* q stays below 2^32: p q does not wrap */
    uint64_t q = gmp_next_prime(p + (rand64() >> 48));
    assert_prime(p * q, 0);
    assert_prime(p, 1);
    p = q;
  }
  for (uint64_t n = (UINT64_C(1) << 32) - 3000; n < (UINT64_C(1) << 32) + 3000;
       n++)
    assert_prime(n, gmp_is_prime(n));
}

static void test_near_2_64(void **state) {
  (void)state;
  assert_prime(18446744073709551557ull, 1); /* the largest 64-bit prime */
  assert_prime(UINT64_MAX, 0);
  assert_prime((UINT64_C(1) << 61) - 1, 1);  /* Mersenne primes */
  assert_prime((UINT64_C(1) << 31) - 1, 1);
  for (uint64_t k = 0; k < 3000; k++) {
    uint64_t n = UINT64_MAX - k;
    assert_prime(n, gmp_is_prime(n));
    for (int e = 62; e <= 63; e++) {
      n = (UINT64_C(1) << e) + k;
      assert_prime(n, gmp_is_prime(n));
      n = (UINT64_C(1) << e) - 1 - k;
      assert_prime(n, gmp_is_prime(n));
    }
  }
}

/* random numbers of every size, and random primes near 2^62 and 2^64 */
static void test_random_against_gmp(void **state) {
  (void)state;
  for (int i = 0; i < 300000; i++) {
    uint64_t n = rand64() >> (rand64() % 48);
    if (i & 1) n |= 1;
    assert_prime(n, gmp_is_prime(n));
  }
  for (int i = 0; i < 5000; i++) {
    uint64_t n = gmp_next_prime((UINT64_C(1) << 62) + (rand64() >> 8));
    assert_prime(n, 1);
    n = rand64() | (UINT64_C(1) << 63);
    if (n >= 18446744073709551557ull) continue; /* no prime above */
    n = gmp_next_prime(n);
    assert_prime(n, 1);
    uint64_t p = mr__prime_lucas_param(n);
    assert_true(p > 1);
    assert_int_equal(mr__prime_bpsw(n, p), 3);
    assert_int_equal(mr__prime_sinclair(n), 1);
  }
}

/* the least P >= 3 with (P^2-4 / n) = -1, from GMP's Jacobi symbol */
static uint64_t reference_lucas_param(uint64_t n) {
  mpz_t z;
  mpz_init_set_ui(z, n);
  uint64_t p = 3;
  while (mpz_si_kronecker((long)(p * p - 4), z) != -1) p++;
  mpz_clear(z);
  return p;
}

static void test_lucas_param(void **state) {
  (void)state;
  int large = 0; /* past the table of the first parameters */
  for (int i = 0; i < 200000; i++) {
    uint64_t n = rand64() | 1;
    if (!reaches_bpsw(n)) continue;
    mpz_t z;
    mpz_init_set_ui(z, n);
    int square = mpz_perfect_square_p(z);
    mpz_clear(z);
    if (square) continue;
    uint64_t p = reference_lucas_param(n);
    assert_int_equal(mr__prime_lucas_param(n), p);
    large += p >= 15;
  }
  assert_true(large > 100);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_below_one_million),
      cmocka_unit_test(test_pseudoprimes),
      cmocka_unit_test(test_squares),
      cmocka_unit_test(test_near_2_32),
      cmocka_unit_test(test_near_2_64),
      cmocka_unit_test(test_random_against_gmp),
      cmocka_unit_test(test_lucas_param),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
