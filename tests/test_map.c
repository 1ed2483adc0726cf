/* test_map.c: the library, mr_map and mr_map_reduce, on one rank (Open MPI
 * starts a singleton without mpirun). The integration tests run the same
 * calls on several ranks through examples/map_example. */
#include <mpi.h>

#include "tu.h"

static int square(const void *in, void *out, void *arg) {
  (void)arg;
  long x = *(const long *)in;
  if (x == 13) return MR_EINVAL; /* unlucky: fails */
  *(long *)out = x * x;
  return 0;
}

/* called on several threads at once, each with its own accumulator */
static void add(void *acc, const void *value, void *arg) {
  (void)arg;
  *(long *)acc += *(const long *)value;
}

static void test_map_in_order_with_failures(void **st) {
  (void)st;
  enum { N = 10000 };
  static long in[N], out[N];
  static int status[N];
  for (long i = 0; i < N; i++) in[i] = i, out[i] = -1;
  int rc = mr_map(MPI_COMM_WORLD, in, N, sizeof in[0], out, sizeof out[0],
                  square, NULL, status, NULL);
  assert_int_equal(rc, 1); /* one failed item */
  for (long i = 0; i < N; i++) {
    if (i == 13) {
      assert_int_equal(status[i], MR_EINVAL);
      assert_int_equal(out[i], -1); /* left untouched */
    } else {
      assert_int_equal(status[i], 0);
      assert_int_equal(out[i], i * i);
    }
  }
}

static void test_fixed_chunks_and_threads(void **st) {
  (void)st;
  long in[100], out[100];
  for (long i = 0; i < 100; i++) in[i] = i + 100;
  mr_map_options o = {7, 3};
  assert_int_equal(mr_map(MPI_COMM_WORLD, in, 100, sizeof in[0], out,
                          sizeof out[0], square, NULL, NULL, &o), 0);
  for (long i = 0; i < 100; i++) assert_int_equal(out[i], (i + 100) * (i + 100));
  /* nothing to do is fine */
  assert_int_equal(mr_map(MPI_COMM_WORLD, in, 0, sizeof in[0], out,
                          sizeof out[0], square, NULL, NULL, NULL), 0);
}

static void test_map_reduce_sums(void **st) {
  (void)st;
  long in[1000], acc = 5;
  for (long i = 0; i < 1000; i++) in[i] = i;
  int rc = mr_map_reduce(MPI_COMM_WORLD, in, 1000, sizeof in[0], sizeof(long),
                         square, add, &acc, NULL, NULL);
  assert_int_equal(rc, 1); /* item 13 failed and is left out */
  long want = 5;
  for (long i = 0; i < 1000; i++)
    if (i != 13) want += i * i;
  assert_int_equal(acc, want);
}

int main(int argc, char **argv) {
  int provided;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_map_in_order_with_failures),
      cmocka_unit_test(test_fixed_chunks_and_threads),
      cmocka_unit_test(test_map_reduce_sums),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  MPI_Finalize();
  return rc;
}
