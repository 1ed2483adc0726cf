/* test_colsep.c: an item's fields under --colsep. */
#include "tu.h"

#include "run/colsep.h"

static void expect_field(const mr__colsep *c, const char *item, long n, const char *want) {
  const char *f;
  size_t len = mr__colsep_field(c, item, strlen(item), n, &f);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(f, want, len);
}

static void test_fields_by_number_from_either_end(void **st) {
  (void)st;
  mr_buf why = {0};
  mr__colsep *c;
  assert_int_equal(mr__colsep_compile(" *, *", &c, &why), 0);
  expect_field(c, "a , b,,c", 1, "a");
  expect_field(c, "a , b,,c", 2, "b");
  expect_field(c, "a , b,,c", 3, "");
  expect_field(c, "a , b,,c", 4, "c");
  expect_field(c, "a , b,,c", 5, ""); /* past the end: empty */
  expect_field(c, "a , b,,c", -1, "c");
  expect_field(c, "a , b,,c", -4, "a");
  expect_field(c, "a , b,,c", -5, "");
  expect_field(c, "", 1, "");
  mr_buf out = {0};
  assert_int_equal(mr__colsep_join(c, "x, y ,z", 7, &out), 0);
  assert_int_equal(out.len, 5);
  assert_memory_equal(out.data, "x\ty\tz", 5);
  mr__colsep_free(c);
  /* a regex that can match nothing separates nothing there */
  assert_int_equal(mr__colsep_compile("x*", &c, &why), 0);
  expect_field(c, "abxxc", 2, "c");
  expect_field(c, "abxxc", 1, "ab");
  mr__colsep_free(c);
  assert_int_equal(mr__colsep_compile("[", &c, &why), MR_EINVAL);
  assert_non_null(strstr(why.data, "not a regular expression"));
  mr_buf_free(&out);
  mr_buf_free(&why);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fields_by_number_from_either_end),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
