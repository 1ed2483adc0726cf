/* histogram.c: the `histogram` job: a number in, the pair LOW<TAB>1 out,
 * LOW the lower bound of its bucket of width --arg (default 1): the
 * largest multiple of the width not above the number, exactly, written
 * with the width's decimals. Keyed: the counts per bucket are summed. */
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "reduce/dec.h"

typedef struct hist_state {
  mr__dec width, x;
  mpz_t a, b;
} hist_state;

static int hist_init(void **state, const char *arg) {
  hist_state *h = malloc(sizeof *h);
  if (!h) return MR_ENOMEM;
  mr__dec_init(&h->width);
  mr__dec_init(&h->x);
  mpz_inits(h->a, h->b, NULL);
  int rc = arg ? mr__dec_parse(&h->width, arg, strlen(arg)) : 0;
  if (!arg) mr__dec_set_i64(&h->width, 1);
  if (rc || mpz_sgn(h->width.m) <= 0) {
    mr__dec_clear(&h->width);
    mr__dec_clear(&h->x);
    mpz_clears(h->a, h->b, NULL);
    free(h);
    return MR_EINVAL;
  }
  *state = h;
  return 0;
}

static void hist_fini(void *state) {
  hist_state *h = state;
  mr__dec_clear(&h->width);
  mr__dec_clear(&h->x);
  mpz_clears(h->a, h->b, NULL);
  free(h);
}

static void times_pow10(mpz_t out, const mpz_t m, long k) {
  mpz_ui_pow_ui(out, 10, (unsigned long)k);
  mpz_mul(out, out, m);
}

static int hist_run(void *state, const char *item, size_t len, mr_buf *out) {
  hist_state *h = state;
  int rc = mr__dec_parse(&h->x, item, len);
  if (rc == MR_ENOMEM) return rc;
  if (rc) return mr__num_invalid(out, "not a number", item, len);
  /* both at the larger scale s: floor(x / w) = floor(X / W) */
  long s = h->x.scale > h->width.scale ? h->x.scale : h->width.scale;
  times_pow10(h->a, h->x.m, s - h->x.scale);
  times_pow10(h->b, h->width.m, s - h->width.scale);
  mpz_fdiv_q(h->a, h->a, h->b);
  mr__dec low;
  mr__dec_init(&low);
  mpz_mul(low.m, h->a, h->width.m); /* q * w, at the width's scale */
  low.scale = h->width.scale;
  rc = mr__dec_format(&low, out);
  mr__dec_clear(&low);
  return rc ? rc : mr_buf_append(out, "\t1", 2);
}

const mr_job mr__job_histogram = {MR_ABI_VERSION, "histogram",
                                  "BUCKET<TAB>1, buckets of width --arg (keyed: counts)",
                                  hist_init, hist_run, hist_fini};
