/* test_error.c: the errno -> MR_E... mapping and the text of every code. */
#include "tu.h"
#include "base/error.h"

static void test_errno_maps_to_the_code_the_code_distinguishes(void **state) {
  (void)state;
  static const struct { int errnum, code; } map[] = {
      {ENOENT, MR_ENOENT}, {ENOTDIR, MR_ENOENT}, {EACCES, MR_EACCES},
      {EPERM, MR_EACCES},  {EROFS, MR_EACCES},   {ENOSPC, MR_ENOSPC},
      {EDQUOT, MR_ENOSPC}, {EFBIG, MR_ENOSPC},   {EEXIST, MR_EEXIST},
      {EINTR, MR_EINTR},   {EAGAIN, MR_EAGAIN},  {EWOULDBLOCK, MR_EAGAIN},
      {EPIPE, MR_EPIPE},   {ENOMEM, MR_ENOMEM},  {EINVAL, MR_EINVAL},
      {ERANGE, MR_ERANGE}, {EOVERFLOW, MR_ERANGE}, {ETIMEDOUT, MR_ETIMEDOUT},
      {EIO, MR_EIO},       {EISDIR, MR_EIO},     {EBADF, MR_EIO},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    assert_int_equal(mr__error_from_errno(map[i].errnum), map[i].code);
}

static void test_a_failure_without_errno_is_still_a_failure(void **state) {
  (void)state;
  assert_int_equal(mr__error_from_errno(0), MR_EIO);
  assert_int_equal(mr__error_from_errno(-1), MR_EIO);
  assert_int_equal(mr__error_from_errno(100000), MR_EIO);
}

static void test_every_code_has_its_own_text(void **state) {
  (void)state;
  const char *unknown = mr_strerror(1);
  assert_string_equal(unknown, "unknown error");
  assert_string_equal(mr_strerror(MR_OK), "success");
  assert_string_equal(mr_strerror(MR_EPIPE - 1), "unknown error");
  /* every code from MR_EINVAL down to the last one: a text, not the
   * fallback, and no two alike */
  const char *seen[32] = {0};
  int n = 0;
  for (int code = MR_EINVAL; code >= MR_EPIPE; code--, n++) {
    const char *t = mr_strerror(code);
    assert_non_null(t);
    assert_true(strlen(t) > 0);
    assert_string_not_equal(t, unknown);
    for (int k = 0; k < n; k++) assert_string_not_equal(t, seen[k]);
    seen[n] = t;
  }
  assert_int_equal(n, 21);
  assert_string_equal(mr_strerror(MR_ENOSPC), "no space left on device");
  assert_string_equal(mr_strerror(MR_EACCES), "permission denied");
}

static void test_every_mapped_code_has_text(void **state) {
  (void)state;
  for (int e = 0; e < 200; e++)
    assert_string_not_equal(mr_strerror(mr__error_from_errno(e)), "unknown error");
}

static void test_a_file_failure_is_named_with_its_reason(void **state) {
  (void)state;
  mr_buf why = {0};
  assert_int_equal(mr__error_file(&why, "write", "full/log", ENOSPC), MR_ENOSPC);
  assert_string_equal(why.data, "cannot write 'full/log': No space left on device");
  why.len = 0;
  assert_int_equal(mr__error_file(&why, "read", "in.txt", EISDIR), MR_EIO);
  assert_string_equal(why.data, "cannot read 'in.txt': Is a directory");
  assert_int_equal(mr__error_file(NULL, "read", "x", ENOENT), MR_ENOENT); /* no why wanted */
  mr_buf_free(&why);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_errno_maps_to_the_code_the_code_distinguishes),
      cmocka_unit_test(test_a_failure_without_errno_is_still_a_failure),
      cmocka_unit_test(test_every_code_has_its_own_text),
      cmocka_unit_test(test_every_mapped_code_has_text),
      cmocka_unit_test(test_a_file_failure_is_named_with_its_reason),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
