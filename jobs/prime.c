/* prime.c: the `prime` job. Is the item a prime number? true/false.
 *
 * 64-bit numbers: trial division by the primes below 257, then the
 * Baillie-PSW test: a strong probable-prime test to base 2 and an extra
 * strong Lucas test with Baillie's parameter (P the least of 3, 4, 5, ...
 * with (P^2-4 / n) = -1, Q = 1). This is exact below 2^64: Feitsma and
 * Galway listed every base-2 Fermat pseudoprime below 2^64, and none of
 * them passes this Lucas test. D. Jacobsen checked that when
 * Math::Prime::Util 0.29 (2013) made this pair its deterministic 64-bit
 * is_prime ("All PSP2s have been verified with Jan Feitsma's database";
 * MPU has since used the "almost extra strong" test, whose pseudoprimes
 * include all extra strong ones), and C. Zurnieden again for libtommath
 * (github.com/libtom/libtommath/pull/541, 2023).
 *
 * Larger numbers: GMP's mpz_probab_prime_p, which runs Baillie-PSW (no
 * known counterexample) plus extra Miller-Rabin rounds. */
#include "prime.h"

#include <math.h>
#include <stdlib.h>

#include "num.h"

/* ------------------------------------------------ arithmetic mod odd n */

/* n^-1 mod 2^64 for odd n (Newton's iteration doubles the correct bits:
 * 5, 10, 20, 40, 80). A macro, so that it also folds into constants. */
#define INV_STEP(n, x) ((x) * (2 - (n) * (x)))
#define INV64(n) \
  INV_STEP(n, INV_STEP(n, INV_STEP(n, INV_STEP(n, (3 * (n)) ^ 2))))

/* bit ? a : b, for bit 0 or 1. The bits of the exponents are random, so a
 * branch would be mispredicted half the time; cmov takes one cycle. */
static inline uint64_t pick(uint64_t bit, uint64_t a, uint64_t b) {
#if defined(__GNUC__) && defined(__x86_64__)
  __asm__("test %2, %2\n\tcmovnz %1, %0" : "+r"(b) : "r"(a), "r"(bit) : "cc");
  return b;
#else
  uint64_t mask = 0 - bit;
  return (a & mask) | (b & ~mask);
#endif
}

static inline uint64_t add_mod(uint64_t a, uint64_t b, uint64_t n) {
  uint64_t r = a - (n - b); /* a + b - n, without overflow */
  return a >= n - b ? r : r + n;
}

static inline uint64_t sub_mod(uint64_t a, uint64_t b, uint64_t n) {
  return a >= b ? a - b : a - b + n;
}

/* Montgomery multiplication: a*b/2^64 mod n, for a, b < n, with ninv =
 * n^-1 mod 2^64. With m = lo * ninv, a*b - m*n is a multiple of 2^64 in
 * (-n 2^64, n 2^64), so its high half, hi - (m*n >> 64), needs one fix. */
static inline uint64_t mont_mul(uint64_t a, uint64_t b, uint64_t n,
                                uint64_t ninv) {
  unsigned __int128 t = (unsigned __int128)a * b;
  uint64_t lo = (uint64_t)t, hi = (uint64_t)(t >> 64);
  uint64_t mn = (uint64_t)(((unsigned __int128)(lo * ninv) * n) >> 64);
  return hi >= mn ? hi - mn : hi - mn + n;
}

/* a*b/2^64 - c mod n, for c < n: c comes off the high half while the
 * reduction's multiplications run, so the subtraction costs no latency */
static inline uint64_t mont_mul_sub(uint64_t a, uint64_t b, uint64_t c,
                                    uint64_t n, uint64_t ninv) {
  unsigned __int128 t = (unsigned __int128)a * b;
  uint64_t lo = (uint64_t)t, hi = sub_mod((uint64_t)(t >> 64), c, n);
  uint64_t mn = (uint64_t)(((unsigned __int128)(lo * ninv) * n) >> 64);
  return hi >= mn ? hi - mn : hi - mn + n;
}

/* x^2 * 2^bit / 2^64 mod n, for n < 2^63: reducing 2 x^2 (< 2^127, and
 * < n 2^64 so one fix still suffices) doubles without an add_mod, and the
 * low half's shift moves into m = lo * (2 ninv), off the critical path */
static inline uint64_t mont_sqr_dbl(uint64_t x, uint64_t bit, uint64_t n,
                                    uint64_t ninv) {
  unsigned __int128 t = (unsigned __int128)x * x;
  uint64_t lo = (uint64_t)t, hi = (uint64_t)(t >> 64);
  hi = pick(bit, hi << 1 | lo >> 63, hi);
  uint64_t m = lo * pick(bit, ninv << 1, ninv);
  uint64_t mn = (uint64_t)(((unsigned __int128)m * n) >> 64);
  return hi >= mn ? hi - mn : hi - mn + n;
}

/* ------------------------------------------------------ trial division */

/* p divides n iff n * p^-1 mod 2^64 <= (2^64-1) / p (this bijection maps
 * the multiples of p, and only them, below that bound): a multiplication
 * instead of a division */
#define TD(p) {INV64(UINT64_C(p)), UINT64_MAX / (p)}
static const uint64_t td_first[][2] = {TD(3), TD(5), TD(7)};
static const uint64_t td_rest[][2] = {
    TD(11),  TD(13),  TD(17),  TD(19),  TD(23),  TD(29),  TD(31),  TD(37),
    TD(41),  TD(43),  TD(47),  TD(53),  TD(59),  TD(61),  TD(67),  TD(71),
    TD(73),  TD(79),  TD(83),  TD(89),  TD(97),  TD(101), TD(103), TD(107),
    TD(109), TD(113), TD(127), TD(131), TD(137), TD(139), TD(149), TD(151),
    TD(157), TD(163), TD(167), TD(173), TD(179), TD(181), TD(191), TD(193),
    TD(197), TD(199), TD(211), TD(223), TD(227), TD(229), TD(233), TD(239),
    TD(241), TD(251)};
#define TD_NEXT_PRIME UINT64_C(257) /* the least prime not tried */

/* Has odd n a prime factor from 3 to 251? 3, 5 and 7 catch most composites
 * and exit early; the others are tested without branches, which costs less
 * than predicting 50 rarely taken ones. */
static inline int td_has_factor(uint64_t n) {
  for (size_t i = 0; i < sizeof td_first / sizeof td_first[0]; i++)
    if (n * td_first[i][0] <= td_first[i][1]) return 1;
  int hit = 0;
  for (size_t i = 0; i < sizeof td_rest / sizeof td_rest[0]; i++)
    hit |= n * td_rest[i][0] <= td_rest[i][1];
  return hit;
}

/* ------------------------------------------------- the Lucas parameter */

/* Jacobi symbol (a/n), n odd */
static int jacobi(uint64_t a, uint64_t n) {
  int j = 1;
  a %= n;
  while (a) {
    int z = __builtin_ctzll(a);
    a >>= z;
    if ((z & 1) && ((n & 7) == 3 || (n & 7) == 5)) j = -j;
    if ((a & 3) == 3 && (n & 3) == 3) j = -j;
    uint64_t t = n % a;
    n = a;
    a = t;
  }
  return n == 1 ? j : 0;
}

static int is_square(uint64_t n) {
  uint64_t r = (uint64_t)sqrt((double)n);
  while (r > 0xffffffffu || r * r > n) r--; /* r*r must not wrap */
  while (r < 0xffffffffu && (r + 1) * (r + 1) <= n) r++;
  return r * r == n;
}

/* Baillie's Lucas parameter for n (odd, > 256^2, no prime factor below
 * 257): the least P >= 3 with (P^2-4 / n) = -1, as OEIS A217719 and
 * Math::Prime::Util choose it. Returns 0 when n is composite (a square, for
 * which there is no such P, or sharing a factor with P^2-4 < n), 1 when
 * there is none up to LUCAS_P_MAX (never seen: (P^2-4 / n) would be 1 for
 * every P up to 100). */
#define LUCAS_P_MAX 100
static uint64_t lucas_param(uint64_t n) {
  /* (q/n) for q = 2, 3, 5, 7, 11, 13, one bit each (1 for -1): (2/n) from
   * n mod 8, the others by reciprocity, (q/n) = (n/q) times -1 when q and n
   * are both 3 mod 4, with (n/q) from the non-residues mod q. */
  uint64_t flip = (n >> 1) & 1; /* n = 3 mod 4 */
  uint64_t c2 = (UINT64_C(0x28) >> (n & 7)) & 1;
  uint64_t c3 = ((UINT64_C(0x4) >> (n % 3)) ^ flip) & 1;
  uint64_t c5 = (UINT64_C(0xc) >> (n % 5)) & 1;
  uint64_t c7 = ((UINT64_C(0x68) >> (n % 7)) ^ flip) & 1;
  uint64_t c11 = ((UINT64_C(0x5c4) >> (n % 11)) ^ flip) & 1;
  uint64_t c13 = (UINT64_C(0x9e4) >> (n % 13)) & 1;
  /* (P^2-4 / n) for P = 3..14, bit P-3 set for -1: P^2-4 = (P-2)(P+2) has
   * only those prime factors, and each mask has the bits of the P whose
   * P^2-4 holds its prime an odd number of times */
  uint64_t neg = (UINT64_C(0x88) & (0 - c2)) ^ (UINT64_C(0xca6) & (0 - c3)) ^
                 (UINT64_C(0x631) & (0 - c5)) ^ (UINT64_C(0x244) & (0 - c7)) ^
                 (UINT64_C(0x440) & (0 - c11)) ^ (UINT64_C(0x100) & (0 - c13));
  if (neg) return 3 + (uint64_t)__builtin_ctzll(neg);
  if (is_square(n)) return 0;
  for (uint64_t p = 15; p <= LUCAS_P_MAX; p++) {
    int j = jacobi(p * p - 4, n);
    if (j == -1) return p;
    if (j == 0) return 0; /* P^2-4 < 256^2 < n */
  }
  return 1;
}

/* --------------------------------------------------------- Baillie-PSW */

/* For odd n > 256^2 without prime factors below 257 and Lucas parameter p:
 * bit 0 set when n is a strong probable prime to base 2, bit 1 when it is an
 * extra strong Lucas probable prime for (p, 1). The two powering chains are
 * independent, so they share one loop and the CPU overlaps their
 * multiplications: a prime costs about one chain, not two. */
static inline int bpsw_chains(uint64_t n, uint64_t p, int below_2_63) {
  uint64_t ninv = INV64(n);
  uint64_t one = (0 - n) % n; /* 2^64 mod n */
  uint64_t two = add_mod(one, one, n), minus_one = n - one;
  uint64_t pm = one;
  for (uint64_t i = 1; i < p; i++) pm = add_mod(pm, one, n);
  /* n-1 = d 2^a and n+1 = s 2^b with d, s odd (n+1 does not wrap: 2^64-1
   * has small factors) */
  int a = __builtin_ctzll(n - 1), b = __builtin_ctzll(n + 1);
  uint64_t d = (n - 1) >> a, s = (n + 1) >> b;
  /* x = 2^k, and {vw, sq} = {V_k, V_k+1}, for k the bits of d and of s read
   * so far: V_2k = V_k^2 - 2, V_2k+1 = V_k V_k+1 - P, V_2k+2 = V_k+1^2 - 2,
   * so V_k is vw after a 1 bit and sq after a 0 bit. The product takes its
   * factors in either order; only the square's input needs choosing. */
  uint64_t x = one, vw = pm, sq = two, prev = 0;
  for (int i = 63 - __builtin_clzll(d | s); i >= 0; i--) {
    uint64_t dbit = (d >> i) & 1, sbit = (s >> i) & 1;
    if (below_2_63) {
      x = mont_sqr_dbl(x, dbit, n, ninv);
    } else {
      uint64_t xx = mont_mul(x, x, n, ninv);
      x = pick(dbit, add_mod(xx, xx, n), xx);
    }
    uint64_t in = pick(sbit ^ prev, vw, sq); /* V_k+1 for a 1, V_k for a 0 */
    vw = mont_mul_sub(vw, sq, pm, n, ninv);
    sq = mont_mul_sub(in, in, two, n, ninv);
    prev = sbit;
  }
  /* base 2: 2^d = 1 or -1, or -1 among 2^2d, 2^4d, ..., 2^(2^(a-1) d) */
  int sprp2 = x == one || x == minus_one;
  for (int i = 1; i < a && !sprp2 && x != one; i++) {
    x = mont_mul(x, x, n, ninv);
    sprp2 = x == minus_one;
  }
  /* Lucas: U_s = 0 and V_s = +-2, or 0 among V_s, V_2s, ..., V_(2^(b-2) s).
   * D U_k = 2 V_k+1 - P V_k and (D, n) = 1, so U_s = 0 iff 2 V_s+1 = P V_s */
  uint64_t v = pick(prev, vw, sq), w = pick(prev, sq, vw);
  int eslpsp = 0;
  if (v == two || v == n - two) {
    eslpsp = add_mod(w, w, n) == mont_mul(pm, v, n, ninv);
  } else {
    for (int r = 0; r < b - 1 && !eslpsp; r++) {
      eslpsp = v == 0;
      v = mont_mul_sub(v, v, two, n, ninv);
    }
  }
  return sprp2 | eslpsp << 1;
}

static int bpsw(uint64_t n, uint64_t p) {
  /* two copies of the loop, one with the shorter doubling */
  return n >> 63 ? bpsw_chains(n, p, 0) : bpsw_chains(n, p, 1);
}

/* ------------------------------------------- fallback: Miller-Rabin */

/* Strong probable prime to base a (0 < a < n), for odd n > 3 */
static int sprp(uint64_t n, uint64_t a) {
  uint64_t ninv = INV64(n), one = (0 - n) % n, minus_one = n - one;
  int s = __builtin_ctzll(n - 1);
  uint64_t d = (n - 1) >> s;
  uint64_t x = one, b = (uint64_t)(((unsigned __int128)a << 64) % n);
  for (; d; d >>= 1) { /* right to left */
    if (d & 1) x = mont_mul(x, b, n, ninv);
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

/* Miller-Rabin with Jim Sinclair's seven bases, exact for every n < 2^64
 * (miller-rabin.appspot.com): for the n that lucas_param finds no P for */
static int sinclair(uint64_t n) {
  static const uint64_t bases[] = {2,      325,     9375,      28178,
                                   450775, 9780504, 1795265022};
  for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
    uint64_t a = bases[i] % n;
    if (a && !sprp(n, a)) return 0;
  }
  return 1;
}

/* ----------------------------------------------------------- the test */

/* the primes below 256, one bit each */
static const uint64_t small_primes[4] = {
    0x28208a20a08a28acu, 0x800228a202088288u, 0x8028208820a00a08u,
    0x08028228800800a2u};

int mr__is_prime_u64(uint64_t n) {
  if (n < 256) return (int)((small_primes[n >> 6] >> (n & 63)) & 1);
  if (!(n & 1) || td_has_factor(n)) return 0;
  if (n < TD_NEXT_PRIME * TD_NEXT_PRIME) return 1;
  uint64_t p = lucas_param(n);
  return p > 1 ? bpsw(n, p) == 3 : p == 1 ? sinclair(n) : 0;
}

uint64_t mr__prime_lucas_param(uint64_t n) { return lucas_param(n); }
int mr__prime_bpsw(uint64_t n, uint64_t p) { return bpsw(n, p); }
int mr__prime_sinclair(uint64_t n) { return sinclair(n); }

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
  if (mr__num_parse(item, len, &v, out)) return MR_EINVAL;
  int prime;
  if (v.neg) {
    prime = 0;
  } else if (v.fits) {
    prime = mr__is_prime_u64(v.mag);
  } else {
    prime_state *p = state;
    mr__num_to_mpz(&v, p->z);
    prime = mpz_probab_prime_p(p->z, 30) > 0;
  }
  return prime ? mr_buf_append(out, "true", 4) : mr_buf_append(out, "false", 5);
}

const mr_job mr__job_prime = {
    MR_ABI_VERSION, "prime", "is the integer prime? true/false (exact)",
    prime_init, prime_run, prime_fini};
