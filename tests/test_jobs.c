/* test_jobs.c: the built-in jobs through their mr_job entries: exact
 * answers (checked against GMP where numbers are big), strict parsing, and
 * one-line messages for what is not an item. */
#include "tu.h"

#include <gmp.h>

#include "run/job.h"
#include "num.h"

/* Runs job on item; returns the status and leaves the output in *out. */
static int run_job(const char *name, const char *arg, const char *item,
                   mr_buf *out) {
  const mr_job *j = mr__job_builtin(name);
  assert_non_null(j);
  void *state = NULL;
  if (j->init) assert_int_equal(j->init(&state, arg), 0);
  out->len = 0;
  if (mr_buf_reserve(out, 1)) fail();
  out->data[0] = '\0';
  int rc = j->run(state, item, strlen(item), out);
  if (j->fini) j->fini(state);
  return rc;
}

static void expect(const char *name, const char *item, const char *want) {
  mr_buf out = {0};
  assert_int_equal(run_job(name, "0", item, &out), 0);
  assert_string_equal(out.data, want);
  mr_buf_free(&out);
}

static void expect_error(const char *name, const char *item, const char *msg_part) {
  mr_buf out = {0};
  int rc = run_job(name, "0", item, &out);
  assert_true(rc < 0);
  assert_non_null(strstr(out.data, msg_part));
  assert_null(strchr(out.data, '\n')); /* one line */
  mr_buf_free(&out);
}

static void test_registry(void **st) {
  (void)st;
  const char *names[] = {"prime", "square", "cube", "sleep", "calc", "crash"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    const mr_job *j = mr__job_builtin(names[i]);
    assert_non_null(j);
    assert_string_equal(j->name, names[i]);
    assert_int_equal(j->abi, MR_ABI_VERSION);
    assert_non_null(j->summary);
  }
  assert_null(mr__job_builtin("nope"));
  assert_null(mr__job_builtin(""));
}

static void test_square_and_cube_exact(void **st) {
  (void)st;
  expect("square", "0", "0");
  expect("square", "-12", "144");
  expect("square", "+12", "144");
  expect("square", "4294967296", "18446744073709551616"); /* 2^32: past 64 bits */
  expect("square", "18446744073709551617", "340282366920938463500268095579187314689");
  expect("cube", "-3", "-27");
  expect("cube", "2097152", "9223372036854775808"); /* 2^21 cubed = 2^63 */
  /* a big one against GMP */
  const char *big = "123456789012345678901234567890";
  mpz_t z;
  mpz_init_set_str(z, big, 10);
  mpz_pow_ui(z, z, 3);
  char *want = mpz_get_str(NULL, 10, z);
  expect("cube", big, want);
  free(want);
  mpz_clear(z);
}

static void test_prime_small_and_edges(void **st) {
  (void)st;
  expect("prime", "2", "true");
  expect("prime", "1", "false");
  expect("prime", "0", "false");
  expect("prime", "-7", "false");
  expect("prime", "561", "false");                  /* Carmichael */
  expect("prime", "3215031751", "false");           /* strong pseudoprime to 2,3,5,7 */
  expect("prime", "18446744073709551557", "true");  /* largest 64-bit prime */
  expect("prime", "18446744073709551617", "false"); /* 2^64 + 1 */
  expect("prime", "170141183460469231731687303715884105727", "true"); /* 2^127 - 1 */
  /* the seeds' six numbers */
  expect("prime", "112272535095293", "true");
  expect("prime", "1099726899285419", "false");
}

static void test_numbers_are_strict(void **st) {
  (void)st;
  const char *bad[] = {"12abc", "1e3", "0x10", "+", "-", "1 000", "1.5", "--1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    expect_error("square", bad[i], "not an integer");
    expect_error("prime", bad[i], "not an integer");
  }
  mr_int v;
  mr_buf err = {0};
  assert_int_equal(mr__num_parse("-0", 2, &v, &err), 0);
  assert_false(v.neg); /* -0 is 0 */
  assert_int_equal(mr__num_parse("007", 3, &v, &err), 0);
  assert_int_equal(v.mag, 7);
  assert_true(v.fits);
  assert_int_equal(mr__num_parse("18446744073709551616", 20, &v, &err), 0);
  assert_false(v.fits);
  mr_buf_free(&err);
}

static void test_calc_three_outputs(void **st) {
  (void)st;
  /* n/2 as Python prints it, a sleep of 0-5 units (a hash), n*n */
  mr_buf out = {0};
  assert_int_equal(run_job("calc", "0", "7", &out), 0);
  int units = -1;
  char half[32], sq[32];
  assert_int_equal(sscanf(out.data, "%31[^\t]\t%d\t%31s", half, &units, sq), 3);
  assert_string_equal(half, "3.5");
  assert_in_range(units, 0, 5);
  assert_string_equal(sq, "49");
  assert_int_equal(run_job("calc", "0", "-3", &out), 0);
  assert_true(strncmp(out.data, "-1.5\t", 5) == 0);
  assert_int_equal(run_job("calc", "0", "10", &out), 0);
  assert_true(strncmp(out.data, "5.0\t", 4) == 0);
  /* the same parameter sleeps the same every time */
  mr_buf again = {0};
  assert_int_equal(run_job("calc", "0", "10", &again), 0);
  assert_string_equal(out.data, again.data);
  mr_buf_free(&out);
  mr_buf_free(&again);
}

/* parameter / 2 exactly as Python 3 prints it, at every size: the nearest
 * double (ties to even), repr's shortest digits, scientific from 1e16, and
 * Python's OverflowError as a failed item (issue 15, item 16). */
static void test_calc_half_as_python(void **st) {
  (void)st;
  static const char *cases[][2] = {
      {"9007199254740992", "4503599627370496.0"},
      {"9007199254740993", "4503599627370496.0"}, /* 2^53+1: rounds */
      {"9007199254740995", "4503599627370498.0"}, /* a tie: to even */
      {"-9007199254740993", "-4503599627370496.0"},
      {"19999999999999996", "9999999999999998.0"},
      {"19999999999999998", "1e+16"},
      {"20000000000000000", "1e+16"},
      {"100000000000000000", "5e+16"},
      {"10000000000000000000000", "5e+21"},
      {"12345678901234567", "6172839450617284.0"},
      {"123456789012345678901", "6.172839450617284e+19"},
      {"-1", "-0.5"}, {"0", "0.0"}};
  mr_buf out = {0};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    assert_int_equal(run_job("calc", "0", cases[i][0], &out), 0);
    size_t n = strlen(cases[i][1]);
    if (strncmp(out.data, cases[i][1], n) || out.data[n] != '\t')
      fail_msg("calc %s: got %s, Python %s", cases[i][0], out.data, cases[i][1]);
  }
  mpz_t z;
  mpz_init(z);
  mpz_ui_pow_ui(z, 10, 308); /* 5e+307: still a double */
  char *s = mpz_get_str(NULL, 10, z);
  assert_int_equal(run_job("calc", "0", s, &out), 0);
  assert_true(strncmp(out.data, "5e+307\t", 7) == 0);
  free(s);
  mpz_ui_pow_ui(z, 10, 400);
  s = mpz_get_str(NULL, 10, z);
  assert_int_equal(run_job("calc", "0", s, &out), MR_ERANGE);
  assert_string_equal(out.data, "integer division result too large for a float");
  free(s);
  mpz_clear(z);
  mr_buf_free(&out);
}

static void test_sleep_seconds(void **st) {
  (void)st;
  double s;
  assert_int_equal(mr__num_parse_seconds("0.05", 4, &s), 0);
  assert_true(s == 0.05);
  assert_int_equal(mr__num_parse_seconds("1e-3", 4, &s), 0);
  assert_true(s == 1e-3);
  const char *bad[] = {"inf", "nan", "0x10", "", "abc", "1-2"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(mr__num_parse_seconds(bad[i], strlen(bad[i]), &s), MR_EINVAL);
  /* numbers, but not a time to sleep: the message says the limit */
  const char *far[] = {"-1", "1e9", "1e8", "10000000.5", "1e400", "-1e400"};
  for (size_t i = 0; i < sizeof far / sizeof *far; i++)
    assert_int_equal(mr__num_parse_seconds(far[i], strlen(far[i]), &s), MR_ERANGE);
  expect("sleep", "0.001", "0.001");
  expect_error("sleep", "soon", "not a number of seconds: 'soon'");
  expect_error("sleep", "1e8", "seconds out of range (0 to 10000000): '1e8'");
  expect_error("sleep", "-1", "seconds out of range (0 to 10000000): '-1'");
}

/* The jobs that sleep look at the stop while they sleep, and return
 * MR_EINTR: the item is left for --resume, not failed. */
static void test_sleep_ends_at_a_stop(void **st) {
  (void)st;
  mr__job_watch_stop(&tu_stop);
  const char *jobs[][2] = {{"sleep", "1e7"}, {"crash", "sleep:1e7"}};
  for (size_t i = 0; i < sizeof jobs / sizeof *jobs; i++) {
    mr_buf out = {0};
    pthread_t t = tu_stop_later();
    assert_int_equal(run_job(jobs[i][0], "0", jobs[i][1], &out), MR_EINTR);
    pthread_join(t, NULL);
    mr_buf_free(&out);
  }
  mr__job_watch_stop(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry),
      cmocka_unit_test(test_square_and_cube_exact),
      cmocka_unit_test(test_prime_small_and_edges),
      cmocka_unit_test(test_numbers_are_strict),
      cmocka_unit_test(test_calc_three_outputs),
      cmocka_unit_test(test_calc_half_as_python),
      cmocka_unit_test(test_sleep_seconds),
      cmocka_unit_test(test_sleep_ends_at_a_stop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
