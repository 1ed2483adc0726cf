/* plugin_collatz.c: an example job plugin. `make` builds it into
 * jobs/libcollatz.so; run it with
 *     mpirun -np 4 ./mapreduce -j jobs/libcollatz.so nums.txt
 * For every positive integer n below 2^64 it answers the number of Collatz
 * steps (n -> n/2 or 3n+1) that reach 1.
 *
 * A plugin needs only include/mapreduce.h: build it with
 *     cc -O2 -shared -fPIC -Iinclude -o libmyjob.so myjob.c
 * or, against an installed mapreduce (make install; this file is then in
 * PREFIX/share/mapreduce/),
 *     cc -O2 -shared -fPIC $(pkg-config --cflags mapreduce) -o libcollatz.so plugin_collatz.c
 */
#include <stdlib.h>
#include <string.h>

#include "mapreduce.h"

static int collatz_run(void *state, const char *item, size_t len, mr_buf *out) {
  (void)state;
  if (len == 0 || len > 20 || strspn(item, "0123456789") != len) {
    mr_buf_printf(out, "not a positive integer: '%.40s'", item);
    return MR_EINVAL;
  }
  char *end;
  unsigned long long n = strtoull(item, &end, 10);
  if (n == 0 || *end) {
    mr_buf_printf(out, "not a positive integer below 2^64: '%.40s'", item);
    return MR_EINVAL;
  }
  unsigned long long steps = 0;
  while (n != 1) {
    if (n % 2 == 0) {
      n /= 2;
    } else if (__builtin_mul_overflow(n, 3, &n) || __builtin_add_overflow(n, 1, &n)) {
      mr_buf_puts(out, "the sequence leaves 64 bits");
      return MR_ERANGE;
    }
    steps++;
  }
  return mr_buf_printf(out, "%llu", steps);
}

static const mr_job collatz = {
    .abi = MR_ABI_VERSION,
    .name = "collatz",
    .summary = "steps of the Collatz sequence from n down to 1",
    .run = collatz_run,
};

MR_PLUGIN(collatz)
