/* cube.c: the `cube` job: n*n*n, exact at any size. */
#include "num.h"

#define CUBE_FAST_MAX 6981463658331ull /* largest m with m^3 < 2^128 */

static int cube_run(void *state, const char *item, size_t len, mr_buf *out) {
  (void)state;
  mr_int v;
  if (mr__num_parse(item, len, &v, out)) return MR_EINVAL;
  if (v.fits && v.mag <= CUBE_FAST_MAX) {
    unsigned __int128 c = (unsigned __int128)v.mag * v.mag * v.mag;
    return mr__num_put_u128(out, c, v.neg);
  }
  mpz_t z;
  mpz_init(z);
  mr__num_to_mpz(&v, z);
  mpz_pow_ui(z, z, 3);
  int rc = mr__num_put_mpz(out, z);
  mpz_clear(z);
  return rc;
}

const mr_job mr__job_cube = {MR_ABI_VERSION, "cube", "n*n*n, exact at any size",
                            NULL, cube_run, NULL};
