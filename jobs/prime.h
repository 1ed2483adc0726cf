/* prime.h: exact primality, shared by the prime job, its tests and the
 * serial baseline of the benchmarks. */
#ifndef MR_PRIME_H
#define MR_PRIME_H

#include <stdint.h>

/* Deterministic for every 64-bit n (no probabilistic answer). */
int mr_is_prime_u64(uint64_t n);

#endif
