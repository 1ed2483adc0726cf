/* square.c: the `square` job: n*n, exact at any size. */
#include "num.h"

static int square_run(void *state, const char *item, size_t len, mr_buf *out) {
  (void)state;
  mr_int v;
  if (mr__num_parse(item, len, &v, out)) return MR_EINVAL;
  if (v.fits) {
    if (v.mag <= UINT32_MAX) return mr__num_put_u64(out, v.mag * v.mag, 0);
    return mr__num_put_u128(out, (unsigned __int128)v.mag * v.mag, 0);
  }
  mpz_t z;
  mpz_init(z);
  mr__num_to_mpz(&v, z);
  mpz_mul(z, z, z);
  int rc = mr__num_put_mpz(out, z);
  mpz_clear(z);
  return rc;
}

const mr_job mr__job_square = {MR_ABI_VERSION, "square",
                              "n*n, exact at any size", NULL, square_run,
                              NULL};
