/* test_buf.c: mr_buf, the growable buffer every result is written into. */
#include "tu.h"

static void test_append_keeps_nul_after_len(void **st) {
  (void)st;
  mr_buf b = {0};
  assert_int_equal(mr_buf_append(&b, "abc", 3), 0);
  assert_int_equal(b.len, 3);
  assert_string_equal(b.data, "abc");
  assert_int_equal(mr_buf_puts(&b, "def"), 0);
  assert_string_equal(b.data, "abcdef");
  assert_true(b.cap > b.len);
  mr_buf_free(&b);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  /* reusable after free */
  assert_int_equal(mr_buf_puts(&b, "x"), 0);
  assert_string_equal(b.data, "x");
  mr_buf_free(&b);
}

static void test_printf_appends_and_grows(void **st) {
  (void)st;
  mr_buf b = {0};
  assert_int_equal(mr_buf_printf(&b, "%d-%s", 42, "z"), 0);
  assert_string_equal(b.data, "42-z");
  char big[5000];
  memset(big, 'q', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_int_equal(mr_buf_printf(&b, "[%s]", big), 0);
  assert_int_equal(b.len, 4 + 2 + sizeof big - 1);
  assert_int_equal(b.data[4], '[');
  assert_int_equal(b.data[b.len - 1], ']');
  assert_int_equal(b.data[b.len], '\0');
  mr_buf_free(&b);
}

static void test_binary_bytes_and_empty_append(void **st) {
  (void)st;
  mr_buf b = {0};
  assert_int_equal(mr_buf_append(&b, "a\0b", 3), 0);
  assert_int_equal(b.len, 3);
  assert_memory_equal(b.data, "a\0b", 3);
  assert_int_equal(mr_buf_append(&b, "", 0), 0);
  assert_int_equal(b.len, 3);
  size_t cap = b.cap;
  assert_int_equal(mr_buf_reserve(&b, 1 << 20), 0);
  assert_true(b.cap >= b.len + (1 << 20));
  assert_true(b.cap >= cap);
  assert_memory_equal(b.data, "a\0b", 3);
  mr_buf_free(&b);
}

static void test_strerror_never_null(void **st) {
  (void)st;
  for (int e = 0; e >= -20; e--) assert_non_null(mr_strerror(e));
  assert_non_null(mr_strerror(12345));
  assert_string_not_equal(mr_strerror(MR_EINVAL), mr_strerror(MR_ENOMEM));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_append_keeps_nul_after_len),
      cmocka_unit_test(test_printf_appends_and_grows),
      cmocka_unit_test(test_binary_bytes_and_empty_append),
      cmocka_unit_test(test_strerror_never_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
