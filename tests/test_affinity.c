/* test_affinity.c: when a rank's CPU binding held its threads back. */
#include "tu.h"

#include "cli/affinity.h"

static void test_bound_core_busy_with_cores_free(void **st) {
  (void)st;
  /* -np 1 on 2 cores, bound to one: the reader and a computing thread */
  assert_true(mr__affinity_starved(2, 1, 2, 1, 1.0, 1.0));
  assert_true(mr__affinity_starved(2, 1, 2, 1, 0.8, 1.0));
  /* one rank a node with -t 16, bound to one core of 16 */
  assert_true(mr__affinity_starved(17, 1, 16, 1, 10.0, 10.0));
  /* bound to a socket of 8 on a 16-core node */
  assert_true(mr__affinity_starved(17, 8, 16, 1, 7.0, 1.0));
}

static void test_idle_threads_are_not_held_back(void **st) {
  (void)st;
  /* -t 8 of sleeps or URL fetches on one core: the core idles */
  assert_false(mr__affinity_starved(9, 1, 2, 1, 0.1, 1.0));
  assert_false(mr__affinity_starved(2, 1, 2, 1, 0.79, 1.0));
}

static void test_every_core_has_a_rank(void **st) {
  (void)st;
  assert_false(mr__affinity_starved(2, 1, 2, 2, 1.0, 1.0)); /* -np 2 on 2 cores */
  assert_false(mr__affinity_starved(2, 1, 2, 8, 1.0, 1.0)); /* oversubscribed */
}

static void test_no_more_threads_than_cores(void **st) {
  (void)st;
  assert_false(mr__affinity_starved(2, 2, 2, 1, 2.0, 1.0)); /* --bind-to none */
  assert_false(mr__affinity_starved(2, 0, 2, 1, 2.0, 1.0)); /* unknown */
}

static void test_counts_a_cpu_list(void **st) {
  (void)st;
  assert_int_equal(mr__affinity_count_list("0-1\n"), 2);
  assert_int_equal(mr__affinity_count_list("0"), 1);
  assert_int_equal(mr__affinity_count_list("0-3,8,10-11\n"), 7);
  assert_int_equal(mr__affinity_count_list(""), 0);
  assert_int_equal(mr__affinity_count_list("3-1"), MR_EINVAL);
  assert_int_equal(mr__affinity_count_list("x"), MR_EINVAL);
  assert_int_equal(mr__affinity_count_list("1,,2"), MR_EINVAL);
}

static void test_reads_this_process(void **st) {
  (void)st;
  assert_true(mr__affinity_cores() >= 1);
  volatile double x = 0;
  for (int i = 0; i < 20000000; i++) x += i; /* some CPU time to see */
  assert_true(mr__affinity_cpu_seconds() > 0);
  assert_true(mr__affinity_parent_cores() >= 1); /* the test runner's */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bound_core_busy_with_cores_free),
      cmocka_unit_test(test_idle_threads_are_not_held_back),
      cmocka_unit_test(test_every_core_has_a_rank),
      cmocka_unit_test(test_no_more_threads_than_cores),
      cmocka_unit_test(test_counts_a_cpu_list),
      cmocka_unit_test(test_reads_this_process),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
