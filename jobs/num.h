/* num.h: integer items for the built-in jobs: strict parsing, fast
 * formatting, and GMP for what does not fit in 64 bits. */
#ifndef MR_NUM_H
#define MR_NUM_H

#include <gmp.h>
#include <stddef.h>
#include <stdint.h>

#include "mapreduce.h"

typedef struct mr_int {
  int neg;      /* the text had a '-' (and is not zero) */
  int fits;     /* the magnitude fits in 64 bits: mag holds it */
  uint64_t mag;
  const char *digits; /* the digits, without sign */
  size_t ndigits;
} mr_int;

/* Parses an optional sign and one or more decimal digits, nothing else.
 * Returns 0, or MR_EINVAL with a message appended to err. */
int mr__num_parse(const char *s, size_t len, mr_int *v, mr_buf *err);
/* The parsed value as a GMP integer (any size). */
void mr__num_to_mpz(const mr_int *v, mpz_t z);

/* Appends v in decimal, with a '-' when neg. */
int mr__num_put_u64(mr_buf *out, uint64_t v, int neg);
int mr__num_put_u128(mr_buf *out, unsigned __int128 v, int neg);
int mr__num_put_mpz(mr_buf *out, const mpz_t z);

/* Appends "MESSAGE: 'ITEM'" (item cut short and made printable) and
 * returns MR_EINVAL. */
int mr__num_invalid(mr_buf *err, const char *msg, const char *s, size_t len);

/* Seconds as a strict decimal (fractions and exponents, no hex, inf or
 * nan), from 0 to 1e7. 0, MR_EINVAL (not a number) or MR_ERANGE (a
 * number outside 0..1e7). */
int mr__num_parse_seconds(const char *s, size_t len, double *out);
/* Sleeps that long, resuming after signals: 0, or MR_EINTR as soon as the
 * run is stopping (mr_stopping), the sleep cut short. */
int mr__num_sleep_seconds(double s);

#endif
