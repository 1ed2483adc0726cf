/* dec.h: exact decimal numbers for reductions: a GMP integer scaled by a
 * power of ten, so sums of integers of any size and of decimal fractions
 * are exact, as Python's int and Decimal are. */
#ifndef MR_DEC_H
#define MR_DEC_H

#include <gmp.h>
#include <stddef.h>
#include <stdint.h>

#include "mapreduce.h"

#define MR__DEC_MAX_EXP 100000 /* 1e100000 is a number; 1e999999999 is refused */

typedef struct mr__dec {
  mpz_t m;    /* the value is m * 10^-scale */
  long scale; /* >= 0: digits after the point, as written */
} mr__dec;

void mr__dec_init(mr__dec *d);
void mr__dec_clear(mr__dec *d);
void mr__dec_set(mr__dec *d, const mr__dec *s);
void mr__dec_set_i64(mr__dec *d, int64_t v);

/* A plain integer that fits in 64 bits: 1 and *v set, else 0 (anything
 * else: a fraction, an exponent, a big number, not a number). */
int mr__dec_small(const char *s, size_t n, int64_t *v);
/* [+-]DIGITS[.DIGITS][e[+-]DIGITS] (or .DIGITS); nothing around it.
 * 0, or MR_EINVAL (not a number) / MR_ERANGE (an exponent past
 * MR__DEC_MAX_EXP). d must be initialised. */
int mr__dec_parse(mr__dec *d, const char *s, size_t n);

/* d += a, exactly (the result has the larger scale). */
void mr__dec_add(mr__dec *d, const mr__dec *a);
/* <0, 0, >0 as a < b, a == b, a > b (by value: 1.50 == 1.5). */
int mr__dec_cmp(const mr__dec *a, const mr__dec *b);
/* Appends d with its scale's digits after the point ("-0.50", "12"). */
int mr__dec_format(const mr__dec *d, mr_buf *out);
/* Appends d / n (n > 0): exact when the quotient ends within 20 more
 * digits than d's scale, else rounded there half to even; trailing zeros
 * beyond d's scale are dropped. */
int mr__dec_format_div(const mr__dec *d, uint64_t n, mr_buf *out);

#endif
