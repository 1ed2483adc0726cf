/* calc.c: the seeds' calc_stuff(parameter): one integer in, three outputs
 * out: parameter / 2, a sleep time in 0..5, parameter * parameter. The seed
 * draws the sleep time at random; here it is a hash of the parameter, so the
 * output is the same on every run. One unit of sleep is 10 ms, or what
 * --arg says in seconds (--arg 1 sleeps whole seconds as the seed does). */
#include <stdlib.h>
#include <string.h>

#include "num.h"

typedef struct calc_state {
  double unit;
  mpz_t z;
} calc_state;

static int calc_init(void **state, const char *arg) {
  calc_state *c = malloc(sizeof *c);
  if (!c) return MR_ENOMEM;
  c->unit = 0.01;
  if (arg && num_parse_seconds(arg, strlen(arg), &c->unit)) {
    free(c);
    return MR_EINVAL;
  }
  mpz_init(c->z);
  *state = c;
  return 0;
}

static void calc_fini(void *state) {
  calc_state *c = state;
  mpz_clear(c->z);
  free(c);
}

static unsigned sleep_units(const mr_int *v) {
  uint32_t h = 2166136261u; /* FNV-1a over the digits and the sign */
  for (size_t i = 0; i < v->ndigits; i++)
    h = (h ^ (unsigned char)v->digits[i]) * 16777619u;
  h = (h ^ (unsigned)v->neg) * 16777619u;
  return h % 6;
}

static int calc_run(void *state, const char *item, size_t len, mr_buf *out) {
  calc_state *c = state;
  mr_int v;
  if (num_parse(item, len, &v, out)) return MR_EINVAL;
  unsigned units = sleep_units(&v);
  if (units && c->unit > 0 && num_sleep_seconds(units * c->unit))
    return MR_EINTR; /* stopped: left for --resume */
  /* parameter / 2 as Python prints the float: 1.0, 2.5, -1.5 */
  num_to_mpz(&v, c->z);
  int odd = mpz_odd_p(c->z);
  mpz_tdiv_q_2exp(c->z, c->z, 1); /* toward zero, as -3/2 = -1.5 */
  if (v.neg && mpz_sgn(c->z) == 0 && odd) mr_buf_puts(out, "-");
  num_put_mpz(out, c->z);
  mr_buf_puts(out, odd ? ".5\t" : ".0\t");
  mr_buf_printf(out, "%u\t", units);
  num_to_mpz(&v, c->z);
  mpz_mul(c->z, c->z, c->z);
  return num_put_mpz(out, c->z);
}

const mr_job mr_job_calc = {
    MR_ABI_VERSION, "calc",
    "the seeds' calc_stuff: n/2, sleep units 0-5 (10 ms each), n*n", calc_init,
    calc_run, calc_fini};
