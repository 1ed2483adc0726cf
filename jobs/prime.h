/* prime.h: exact primality, shared by the prime job, its tests and the
 * serial baseline of the benchmarks. */
#ifndef MR_PRIME_H
#define MR_PRIME_H

#include <stdint.h>

/* Deterministic for every 64-bit n (no probabilistic answer). */
int mr__is_prime_u64(uint64_t n);

/* Internals of mr__is_prime_u64, for tests/test_prime.c. Each takes an odd
 * n > 256^2 without a prime factor below 257. */
/* Baillie's Lucas parameter: the least P >= 3 with (P^2-4 / n) = -1; 0 when
 * n is composite (a square, or sharing a factor with P^2-4); 1 when there
 * is none below 101. */
uint64_t mr__prime_lucas_param(uint64_t n);
/* For p = mr__prime_lucas_param(n) > 1: bit 0 set when n is a strong
 * probable prime to base 2, bit 1 when an extra strong Lucas probable prime
 * with parameters (p, 1). n is prime iff both are set. */
int mr__prime_bpsw(uint64_t n, uint64_t p);
/* Miller-Rabin with Sinclair's seven bases (the fallback when p is 1). */
int mr__prime_sinclair(uint64_t n);

#endif
