/* calc.c: the seeds' calc_stuff(parameter): one integer in, three outputs
 * out: parameter / 2, a sleep time in 0..5, parameter * parameter. The seed
 * draws the sleep time at random; here it is a hash of the parameter, so the
 * output is the same on every run. One unit of sleep is 10 ms, or what
 * --arg says in seconds (--arg 1 sleeps whole seconds as the seed does). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

typedef struct calc_state {
  double unit;
  mpz_t z, tmp;
} calc_state;

static int calc_init(void **state, const char *arg) {
  calc_state *c = malloc(sizeof *c);
  if (!c) return MR_ENOMEM;
  c->unit = 0.01;
  if (arg && mr__num_parse_seconds(arg, strlen(arg), &c->unit)) {
    free(c);
    return MR_EINVAL;
  }
  mpz_inits(c->z, c->tmp, NULL);
  *state = c;
  return 0;
}

static void calc_fini(void *state) {
  calc_state *c = state;
  mpz_clears(c->z, c->tmp, NULL);
  free(c);
}

static unsigned sleep_units(const mr_int *v) {
  uint32_t h = 2166136261u; /* FNV-1a over the digits and the sign */
  for (size_t i = 0; i < v->ndigits; i++)
    h = (h ^ (unsigned char)v->digits[i]) * 16777619u;
  h = (h ^ (unsigned)v->neg) * 16777619u;
  return h % 6;
}

/* n / 2 as Python's true division gives it: the double nearest to the
 * exact quotient (ties to even). Halving is exact in binary, so that is the
 * double nearest to n, halved. 0, or -1 when it is too large for a double
 * (Python raises OverflowError there). */
static int half_of(const mpz_t n, mpz_t tmp, double *out) {
  size_t bits = mpz_sizeinbase(n, 2);
  if (bits <= 53) {
    *out = mpz_get_d(n) / 2; /* exact */
    return 0;
  }
  size_t shift = bits - 53;
  mpz_abs(tmp, n);
  int up = 0;
  if (mpz_scan1(tmp, 0) < shift) { /* some of the bits shifted out are set */
    int half = (int)mpz_tstbit(tmp, shift - 1);
    int more = mpz_scan1(tmp, 0) < shift - 1;
    up = half && (more || mpz_tstbit(tmp, shift));
  }
  mpz_tdiv_q_2exp(tmp, tmp, shift);
  double q = mpz_get_d(tmp) + up; /* below 2^53 + 1: exact */
  if (shift > 2000) return -1;
  double v = ldexp(q, (int)shift - 1);
  if (isinf(v)) return -1;
  *out = mpz_sgn(n) < 0 ? -v : v;
  return 0;
}

/* Appends v as Python's repr(float) writes it: the shortest digits that
 * read back as v, positional from 1e-4 up to 1e16 (with ".0" when whole),
 * scientific outside (1e+16, 5e-05). */
static int put_python_float(mr_buf *out, double v) {
  char buf[40];
  int p;
  for (p = 1; p < 17; p++) {
    snprintf(buf, sizeof buf, "%.*e", p - 1, v);
    if (strtod(buf, NULL) == v) break;
  }
  snprintf(buf, sizeof buf, "%.*e", p - 1, v);
  /* buf: [-]d[.ddd]e±XX; take the digits and the exponent apart */
  char digits[24];
  size_t nd = 0;
  const char *c = buf;
  if (*c == '-') mr_buf_puts(out, "-"), c++;
  for (; *c != 'e'; c++)
    if (*c != '.') digits[nd++] = *c;
  int exp10 = atoi(c + 1), point = exp10 + 1; /* digits before the point */
  if (point > -4 + 1 && point <= 16) {
    if (point <= 0) {
      mr_buf_puts(out, "0.");
      for (int i = point; i < 0; i++) mr_buf_puts(out, "0");
      return mr_buf_append(out, digits, nd);
    }
    size_t whole = (size_t)point;
    if (whole >= nd) {
      mr_buf_append(out, digits, nd);
      for (size_t i = nd; i < whole; i++) mr_buf_puts(out, "0");
      return mr_buf_puts(out, ".0");
    }
    mr_buf_append(out, digits, whole);
    mr_buf_puts(out, ".");
    return mr_buf_append(out, digits + whole, nd - whole);
  }
  mr_buf_append(out, digits, 1);
  if (nd > 1) {
    mr_buf_puts(out, ".");
    mr_buf_append(out, digits + 1, nd - 1);
  }
  return mr_buf_printf(out, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
}

static int calc_run(void *state, const char *item, size_t len, mr_buf *out) {
  calc_state *c = state;
  mr_int v;
  if (mr__num_parse(item, len, &v, out)) return MR_EINVAL;
  mr__num_to_mpz(&v, c->z);
  double half;
  if (half_of(c->z, c->tmp, &half)) { /* Python's OverflowError */
    mr_buf_puts(out, "integer division result too large for a float");
    return MR_ERANGE;
  }
  unsigned units = sleep_units(&v);
  if (units && c->unit > 0 && mr__num_sleep_seconds(units * c->unit))
    return MR_EINTR; /* stopped: left for --resume */
  put_python_float(out, half);
  mr_buf_printf(out, "\t%u\t", units);
  mpz_mul(c->z, c->z, c->z);
  return mr__num_put_mpz(out, c->z);
}

const mr_job mr__job_calc = {
    MR_ABI_VERSION, "calc",
    "the seeds' calc_stuff: n/2, sleep units 0-5 (10 ms each), n*n", calc_init,
    calc_run, calc_fini};
