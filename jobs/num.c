/* num.c: strict decimal integers in, exact decimal integers out. */
#include "num.h"

#include <string.h>

int mr__num_invalid(mr_buf *err, const char *msg, const char *s, size_t len) {
  mr_buf_puts(err, msg);
  mr_buf_puts(err, ": '");
  size_t shown = len > 40 ? 40 : len;
  for (size_t i = 0; i < shown; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f) mr_buf_printf(err, "\\x%02x", c);
    else mr_buf_append(err, &s[i], 1);
  }
  mr_buf_puts(err, len > shown ? "'..." : "'");
  return MR_EINVAL;
}

int mr__num_parse(const char *s, size_t len, mr_int *v, mr_buf *err) {
  size_t i = 0;
  v->neg = 0;
  if (len && (s[0] == '-' || s[0] == '+')) {
    v->neg = s[0] == '-';
    i = 1;
  }
  if (i == len) return mr__num_invalid(err, "not an integer", s, len);
  while (i + 1 < len && s[i] == '0') i++; /* leading zeros say nothing */
  v->digits = s + i;
  v->ndigits = len - i;
  uint64_t m = 0;
  int fits = v->ndigits <= 20;
  for (; i < len; i++) {
    unsigned d = (unsigned)(unsigned char)s[i] - '0';
    if (d > 9) return mr__num_invalid(err, "not an integer", s, len);
    if (fits && __builtin_mul_overflow(m, 10, &m)) fits = 0;
    if (fits && __builtin_add_overflow(m, d, &m)) fits = 0;
  }
  v->fits = fits;
  v->mag = fits ? m : 0;
  if (fits && m == 0) v->neg = 0; /* -0 is 0 */
  return 0;
}

void mr__num_to_mpz(const mr_int *v, mpz_t z) {
  if (v->fits) {
    mpz_import(z, 1, 1, sizeof v->mag, 0, 0, &v->mag);
  } else {
    /* digits are validated; mpz_set_str wants a C string and the item is
     * NUL-terminated right after them */
    mpz_set_str(z, v->digits, 10);
  }
  if (v->neg) mpz_neg(z, z);
}

static const char pairs[201] =
    "0001020304050607080910111213141516171819202122232425262728293031323334"
    "3536373839404142434445464748495051525354555657585960616263646566676869"
    "707172737475767778798081828384858687888990919293949596979899";

/* Writes v backwards ending at end; returns the first digit. */
static char *u64_digits(char *end, uint64_t v) {
  char *p = end;
  while (v >= 100) {
    unsigned r = (unsigned)(v % 100);
    v /= 100;
    p -= 2;
    memcpy(p, pairs + 2 * r, 2);
  }
  if (v >= 10) {
    p -= 2;
    memcpy(p, pairs + 2 * v, 2);
  } else {
    *--p = (char)('0' + v);
  }
  return p;
}

int mr__num_put_u64(mr_buf *out, uint64_t v, int neg) {
  char tmp[24];
  char *end = tmp + sizeof tmp;
  char *p = u64_digits(end, v);
  if (neg && v) *--p = '-';
  return mr_buf_append(out, p, (size_t)(end - p));
}

int mr__num_put_u128(mr_buf *out, unsigned __int128 v, int neg) {
  if (v <= UINT64_MAX) return mr__num_put_u64(out, (uint64_t)v, neg);
  char tmp[48];
  char *end = tmp + sizeof tmp;
  char *p = end;
  const uint64_t e19 = 10000000000000000000u;
  while (v > UINT64_MAX) {
    uint64_t low = (uint64_t)(v % e19);
    v /= e19;
    char *q = u64_digits(p, low);
    while (q > p - 19) *--q = '0'; /* inner groups keep their zeros */
    p -= 19;
  }
  p = u64_digits(p, (uint64_t)v);
  if (neg) *--p = '-';
  return mr_buf_append(out, p, (size_t)(end - p));
}

int mr__num_put_mpz(mr_buf *out, const mpz_t z) {
  size_t n = mpz_sizeinbase(z, 10) + 2;
  if (mr_buf_reserve(out, n)) return MR_ENOMEM;
  mpz_get_str(out->data + out->len, 10, z);
  out->len += strlen(out->data + out->len);
  return 0;
}
