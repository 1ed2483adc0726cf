/* dec.c: exact decimals (dec.h). */
#include "reduce/dec.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MEAN_EXTRA_DIGITS 20

void mr__dec_init(mr__dec *d) {
  mpz_init(d->m);
  d->scale = 0;
}

void mr__dec_clear(mr__dec *d) { mpz_clear(d->m); }

void mr__dec_set(mr__dec *d, const mr__dec *s) {
  mpz_set(d->m, s->m);
  d->scale = s->scale;
}

void mr__dec_set_i64(mr__dec *d, int64_t v) {
  /* mpz_set_si takes a long: 64 bits on every platform this builds on */
  mpz_set_si(d->m, (long)v);
  d->scale = 0;
}

int mr__dec_small(const char *s, size_t n, int64_t *v) {
  size_t i = 0;
  int neg = 0;
  if (n && (s[0] == '-' || s[0] == '+')) neg = s[0] == '-', i = 1;
  if (i == n || n - i > 18) return 0; /* 18 digits always fit */
  int64_t x = 0;
  for (; i < n; i++) {
    unsigned c = (unsigned char)s[i] - '0';
    if (c > 9) return 0;
    x = x * 10 + (int64_t)c;
  }
  *v = neg ? -x : x;
  return 1;
}

int mr__dec_parse(mr__dec *d, const char *s, size_t n) {
  size_t i = 0;
  int neg = 0;
  if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  size_t int0 = i;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++;
  size_t int1 = i, frac0 = i, frac1 = i;
  if (i < n && s[i] == '.') {
    frac0 = ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    frac1 = i;
  }
  if (int1 == int0 && frac1 == frac0) return MR_EINVAL; /* no digit */
  long exp = 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    int eneg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
    size_t e0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      if (exp > MR__DEC_MAX_EXP) return MR_ERANGE;
      exp = exp * 10 + (s[i++] - '0');
    }
    if (i == e0) return MR_EINVAL;
    if (exp > MR__DEC_MAX_EXP) return MR_ERANGE;
    if (eneg) exp = -exp;
  }
  if (i != n) return MR_EINVAL;
  size_t nd = (int1 - int0) + (frac1 - frac0);
  char stack[64], *digits = nd < sizeof stack ? stack : malloc(nd + 1);
  if (!digits) return MR_ENOMEM;
  memcpy(digits, s + int0, int1 - int0);
  memcpy(digits + (int1 - int0), s + frac0, frac1 - frac0);
  digits[nd] = '\0';
  mpz_set_str(d->m, digits, 10);
  if (digits != stack) free(digits);
  long scale = (long)(frac1 - frac0) - exp;
  if (scale < 0) {
    mpz_t p;
    mpz_init(p);
    mpz_ui_pow_ui(p, 10, (unsigned long)-scale);
    mpz_mul(d->m, d->m, p);
    mpz_clear(p);
    scale = 0;
  }
  d->scale = scale;
  if (neg) mpz_neg(d->m, d->m);
  return 0;
}

/* m * 10^k, k >= 0 */
static void scale_up(mpz_t out, const mpz_t m, long k) {
  if (k == 0) {
    mpz_set(out, m);
    return;
  }
  mpz_t p; /* out may be m itself */
  mpz_init(p);
  mpz_ui_pow_ui(p, 10, (unsigned long)k);
  mpz_mul(out, m, p);
  mpz_clear(p);
}

void mr__dec_add(mr__dec *d, const mr__dec *a) {
  if (d->scale == a->scale) {
    mpz_add(d->m, d->m, a->m);
  } else if (d->scale > a->scale) {
    mpz_t t;
    mpz_init(t);
    scale_up(t, a->m, d->scale - a->scale);
    mpz_add(d->m, d->m, t);
    mpz_clear(t);
  } else {
    scale_up(d->m, d->m, a->scale - d->scale);
    mpz_add(d->m, d->m, a->m);
    d->scale = a->scale;
  }
}

int mr__dec_cmp(const mr__dec *a, const mr__dec *b) {
  if (a->scale == b->scale) return mpz_cmp(a->m, b->m);
  mpz_t t;
  mpz_init(t);
  int c;
  if (a->scale > b->scale) {
    scale_up(t, b->m, a->scale - b->scale);
    c = mpz_cmp(a->m, t);
  } else {
    scale_up(t, a->m, b->scale - a->scale);
    c = mpz_cmp(t, b->m);
  }
  mpz_clear(t);
  return c;
}

/* Appends m * 10^-scale, keeping the scale's digits. */
static int put_scaled(const mpz_t m, long scale, mr_buf *out) {
  size_t n = mpz_sizeinbase(m, 10) + 2;
  char *s = malloc(n);
  if (!s) return MR_ENOMEM;
  mpz_get_str(s, 10, m);
  const char *digits = s;
  int rc = 0;
  if (*digits == '-') {
    digits++;
    if (mpz_sgn(m)) rc = mr_buf_puts(out, "-");
  }
  size_t nd = strlen(digits);
  if (scale == 0) {
    rc = rc ? rc : mr_buf_append(out, digits, nd);
  } else if ((size_t)scale >= nd) { /* 0.000ddd */
    rc = rc ? rc : mr_buf_puts(out, "0.");
    for (size_t i = nd; !rc && i < (size_t)scale; i++) rc = mr_buf_puts(out, "0");
    rc = rc ? rc : mr_buf_append(out, digits, nd);
  } else {
    size_t whole = nd - (size_t)scale;
    rc = rc ? rc : mr_buf_append(out, digits, whole);
    rc = rc ? rc : mr_buf_puts(out, ".");
    rc = rc ? rc : mr_buf_append(out, digits + whole, (size_t)scale);
  }
  free(s);
  return rc;
}

int mr__dec_format(const mr__dec *d, mr_buf *out) { return put_scaled(d->m, d->scale, out); }

int mr__dec_format_div(const mr__dec *d, uint64_t n, mr_buf *out) {
  mpz_t q, r, den;
  mpz_inits(q, r, den, NULL);
  mpz_import(den, 1, 1, sizeof n, 0, 0, &n);
  scale_up(q, d->m, MEAN_EXTRA_DIGITS);
  mpz_fdiv_qr(q, r, q, den); /* floor; 0 <= r < n */
  mpz_mul_2exp(r, r, 1);
  int c = mpz_cmp(r, den);
  if (c > 0 || (c == 0 && mpz_odd_p(q))) mpz_add_ui(q, q, 1); /* half to even */
  long scale = d->scale + MEAN_EXTRA_DIGITS;
  while (scale > d->scale && mpz_divisible_ui_p(q, 10)) {
    mpz_divexact_ui(q, q, 10);
    scale--;
  }
  int rc = put_scaled(q, scale, out);
  mpz_clears(q, r, den, NULL);
  return rc;
}
