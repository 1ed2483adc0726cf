/* test_acc.c: exact decimals and the accumulators of every op: folding,
 * merging partials in any order, packing them for the wire, the result. */
#include "tu.h"

#include "reduce/acc.h"
#include "reduce/dec.h"

/* The result of op over the values, folded one by one. */
static char *fold_all(mr__op op, const char *const *v, size_t n, int bool_count) {
  mr__acc a;
  memset(&a, 0, sizeof a);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(mr__acc_add(op, &a, v[i], strlen(v[i]), (mr__pos){i, 0}), 0);
  mr_buf out = {0};
  assert_int_equal(mr__acc_format(op, &a, bool_count, &out), 0);
  mr__acc_free(&a);
  mr_buf_puts(&out, "");
  return out.data;
}

static void expect(mr__op op, const char *const *v, size_t n, const char *want) {
  char *got = fold_all(op, v, n, 1);
  assert_string_equal(got, want);
  free(got);
}

static void test_sums_are_exact_past_64_bits_and_in_decimals(void **st) {
  (void)st;
  const char *big[] = {"9223372036854775807", "9223372036854775807", "1"};
  expect(MR__OP_SUM, big, 3, "18446744073709551615");
  const char *dec[] = {"0.1", "0.2", "-0.3"};
  expect(MR__OP_SUM, dec, 3, "0.0");
  const char *mixed[] = {"1.50", "2", "1e3", "2.5E-1"};
  expect(MR__OP_SUM, mixed, 4, "1003.75");
  const char *neg[] = {"-170141183460469231731687303715884105727", "1"};
  expect(MR__OP_SUM, neg, 2, "-170141183460469231731687303715884105726");
  expect(MR__OP_SUM, NULL, 0, "0");
}

static void test_min_max_compare_by_value(void **st) {
  (void)st;
  const char *v[] = {"3", "-2.5", "10", "99999999999999999999", "-2.50001"};
  expect(MR__OP_MIN, v, 5, "-2.50001");
  expect(MR__OP_MAX, v, 5, "99999999999999999999");
  expect(MR__OP_MAX, NULL, 0, "");
}

static void test_mean_is_exact_or_rounded_half_even_at_20_places(void **st) {
  (void)st;
  const char *a[] = {"1", "2"};
  expect(MR__OP_MEAN, a, 2, "1.5");
  const char *b[] = {"2", "4"};
  expect(MR__OP_MEAN, b, 2, "3");
  const char *c[] = {"1", "2", "2"};
  expect(MR__OP_MEAN, c, 3, "1.66666666666666666667");
  const char *d[] = {"-1", "-2", "-2"};
  expect(MR__OP_MEAN, d, 3, "-1.66666666666666666667");
  const char *e[] = {"1.10", "1.30"};
  expect(MR__OP_MEAN, e, 2, "1.20");
}

static void test_count_of_booleans_counts_the_true_ones(void **st) {
  (void)st;
  const char *v[] = {"true", "false", "true"};
  expect(MR__OP_COUNT, v, 3, "2");
  expect(MR__OP_SUM, v, 3, "2");
  const char *w[] = {"true", "x", "false"};
  expect(MR__OP_COUNT, w, 3, "3"); /* not all booleans: every result */
  char *keyed = fold_all(MR__OP_COUNT, v, 3, 0);
  assert_string_equal(keyed, "3"); /* a keyed count counts values */
  free(keyed);
}

static void test_first_and_concat_follow_input_order(void **st) {
  (void)st;
  mr__acc a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  /* folded out of order, on two "ranks" */
  assert_int_equal(mr__acc_add(MR__OP_CONCAT, &a, "c", 1, (mr__pos){5, 0}), 0);
  assert_int_equal(mr__acc_add(MR__OP_CONCAT, &b, "a", 1, (mr__pos){1, 0}), 0);
  assert_int_equal(mr__acc_add(MR__OP_CONCAT, &b, "", 0, (mr__pos){1, 1}), 0);
  assert_int_equal(mr__acc_add(MR__OP_CONCAT, &a, "b", 1, (mr__pos){3, 0}), 0);
  assert_int_equal(mr__acc_merge(MR__OP_CONCAT, &a, &b), 0);
  mr_buf out = {0};
  assert_int_equal(mr__acc_format(MR__OP_CONCAT, &a, 0, &out), 0);
  assert_int_equal(out.len, 6);
  assert_memory_equal(out.data, "a,,b,c", 6);
  /* what a reducer command reads: a line per value, in the same order */
  out.len = 0;
  assert_int_equal(mr__acc_format_lines(&a, "k y", 3, &out), 0);
  const char *lines = "k y\ta\nk y\t\nk y\tb\nk y\tc\n";
  assert_int_equal(out.len, strlen(lines));
  assert_memory_equal(out.data, lines, out.len);
  mr__acc_free(&a);
  mr__acc_free(&b);
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  assert_int_equal(mr__acc_add(MR__OP_FIRST, &a, "late", 4, (mr__pos){9, 0}), 0);
  assert_int_equal(mr__acc_add(MR__OP_FIRST, &b, "early", 5, (mr__pos){2, 3}), 0);
  assert_int_equal(mr__acc_merge(MR__OP_FIRST, &a, &b), 0);
  out.len = 0;
  assert_int_equal(mr__acc_format(MR__OP_FIRST, &a, 0, &out), 0);
  assert_int_equal(out.len, 5);
  assert_memory_equal(out.data, "early", 5);
  mr__acc_free(&a);
  mr__acc_free(&b);
  mr_buf_free(&out);
}

/* Packed, unpacked and merged: the same as folding everything in one place. */
static void test_partials_travel_and_merge_to_the_same_result(void **st) {
  (void)st;
  const char *v[] = {"5", "-3", "9223372036854775807", "0.25", "true", "7"};
  for (int op = 0; op < MR__OP_NONE; op++) {
    mr__acc part[3], all;
    memset(part, 0, sizeof part);
    memset(&all, 0, sizeof all);
    for (size_t i = 0; i < 6; i++)
      assert_int_equal(mr__acc_add((mr__op)op, &part[i % 3], v[i], strlen(v[i]),
                                   (mr__pos){i, 0}), 0);
    for (int p = 2; p >= 0; p--) { /* any order */
      mr_buf packed = {0};
      assert_int_equal(mr__acc_pack((mr__op)op, &part[p], &packed), 0);
      mr__acc back;
      memset(&back, 0, sizeof back);
      assert_int_equal(mr__acc_unpack((mr__op)op, &back, packed.data, packed.len), 0);
      assert_int_equal(mr__acc_merge((mr__op)op, &all, &back), 0);
      mr__acc_free(&back);
      mr__acc_free(&part[p]);
      mr_buf_free(&packed);
    }
    char *want = fold_all((mr__op)op, v, 6, 1);
    mr_buf got = {0};
    assert_int_equal(mr__acc_format((mr__op)op, &all, 1, &got), 0);
    mr_buf_puts(&got, "");
    assert_string_equal(got.data, want);
    free(want);
    mr_buf_free(&got);
    mr__acc_free(&all);
  }
}

static void test_not_numbers_are_refused_with_a_message(void **st) {
  (void)st;
  mr_buf why = {0};
  const char *bad[] = {"", "abc", "1e", "0x10", "1.2.3", "--1", "1e999999", "nan", "inf", " 1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    why.len = 0;
    assert_int_equal(mr__acc_check(MR__OP_SUM, bad[i], strlen(bad[i]), &why), MR_EINVAL);
    assert_non_null(strstr(why.data, "sum needs a number"));
  }
  assert_int_equal(mr__acc_check(MR__OP_CONCAT, "abc", 3, &why), 0); /* any text */
  assert_int_equal(mr__acc_check(MR__OP_COUNT, "abc", 3, &why), 0);
  mr_buf_free(&why);
  assert_int_equal(mr__op_parse("mean"), MR__OP_MEAN);
  assert_int_equal(mr__op_parse("median"), MR__OP_NONE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sums_are_exact_past_64_bits_and_in_decimals),
      cmocka_unit_test(test_min_max_compare_by_value),
      cmocka_unit_test(test_mean_is_exact_or_rounded_half_even_at_20_places),
      cmocka_unit_test(test_count_of_booleans_counts_the_true_ones),
      cmocka_unit_test(test_first_and_concat_follow_input_order),
      cmocka_unit_test(test_partials_travel_and_merge_to_the_same_result),
      cmocka_unit_test(test_not_numbers_are_refused_with_a_message),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
