/* test_coline.c: the line protocol of --worker without processes: output
 * cut into lines however it arrives, the error marker, result lines, and
 * the bookkeeping of a batch (what may be written, what is answered). */
#include "tu.h"

#include "run/coline.h"

static void feed(mr__coline_reader *r, const char *s) {
  size_t n = strlen(s);
  assert_int_equal(mr__coline_room(r, n), 0);
  memcpy(r->buf.data + r->buf.len, s, n);
  r->buf.len += n;
}

static void expect_line(mr__coline_reader *r, const char *want) {
  const char *line;
  size_t len;
  assert_int_equal(mr__coline_take(r, &line, &len), 1);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(line, want, len);
}

static void test_lines_whatever_the_pieces(void **st) {
  (void)st;
  mr__coline_reader r = {0};
  const char *line;
  size_t len;
  assert_int_equal(mr__coline_take(&r, &line, &len), 0);
  feed(&r, "fir");
  assert_int_equal(mr__coline_take(&r, &line, &len), 0); /* not whole yet */
  assert_int_equal(mr__coline_pending(&r), 3);
  feed(&r, "st\nsecond\r\n\nthi");
  expect_line(&r, "first");
  expect_line(&r, "second"); /* CRLF: the CR goes too */
  expect_line(&r, "");       /* an empty result is a result */
  assert_int_equal(mr__coline_take(&r, &line, &len), 0);
  feed(&r, "rd\n"); /* taken lines are dropped to make room */
  expect_line(&r, "third");
  assert_int_equal(mr__coline_pending(&r), 0);
  feed(&r, "a\tb\rc\n"); /* a CR inside stays */
  expect_line(&r, "a\tb\rc");
  mr__coline_clear(&r);
  assert_int_equal(mr__coline_pending(&r), 0);
  mr__coline_free(&r);
}

static void test_error_marker(void **st) {
  (void)st;
  const char *msg;
  size_t n;
  assert_int_equal(mr__coline_is_error("\x15 bad item", 10, &msg, &n), 1);
  assert_int_equal(n, 8);
  assert_memory_equal(msg, "bad item", 8);
  assert_int_equal(mr__coline_is_error("\x15", 1, &msg, &n), 1);
  assert_int_equal(n, 0); /* no message: the caller says something */
  assert_int_equal(mr__coline_is_error("ERR x", 5, &msg, &n), 0);
  assert_int_equal(mr__coline_is_error(" \x15x", 3, &msg, &n), 0); /* only at the start */
  assert_int_equal(mr__coline_is_error("", 0, &msg, &n), 0);
}

static void test_result_lines(void **st) {
  (void)st;
  mr_buf out = {0};
  assert_int_equal(mr__coline_result(&out, "7", 1, "49", 2, 0), 0);
  assert_int_equal(mr__coline_result(&out, "x y", 3, "a\tb", 3, 0), 0);
  assert_int_equal(mr__coline_result(&out, "8", 1, "64", 2, 1), 0); /* raw */
  assert_int_equal(mr__coline_result(&out, "9", 1, "", 0, 0), 0);
  assert_int_equal(mr__coline_result(&out, "c", 1, "a\rb", 3, 0), 0); /* as --exec */
  assert_int_equal(mr__coline_result(&out, "d", 1, "a\rb", 3, 1), 0); /* raw: as is */
  assert_string_equal(out.data, "7\t49\nx y\ta\tb\n64\n9\t\nc\ta\\rb\na\rb\n");
  mr_buf_free(&out);
}

static void test_batch_window(void **st) {
  (void)st;
  mr__coline_batch b = {0};
  mr__coline_batch_reset(&b);
  assert_int_equal(mr__coline_batch_writable(&b, 0), 0);
  /* items 0, 2, 3 of a chunk (1 was bad and is never sent) */
  assert_int_equal(mr__coline_batch_add(&b, 0, "10", 2), 0);
  assert_int_equal(mr__coline_batch_add(&b, 2, "300", 3), 0);
  assert_int_equal(mr__coline_batch_add(&b, 3, "4", 1), 0);
  assert_int_equal(b.n, 3);
  assert_memory_equal(b.w.data, "10\n300\n4\n", 9);
  assert_int_equal(b.item[1], 2);
  assert_int_equal(mr__coline_batch_writable(&b, 0), 9); /* everything at once */
  assert_int_equal(mr__coline_batch_writable(&b, 1), 3); /* one line at a time */
  b.sent = 2;
  assert_int_equal(mr__coline_batch_writable(&b, 1), 1);
  b.sent = 3;
  assert_int_equal(mr__coline_batch_writable(&b, 1), 0); /* waits for its answer */
  b.answered = 1;
  assert_int_equal(mr__coline_batch_writable(&b, 1), 4);
  assert_int_equal(mr__coline_batch_writable(&b, 2), 6);
  b.sent = 9;
  assert_int_equal(mr__coline_batch_writable(&b, 0), 0);
  mr__coline_batch_reset(&b); /* storage kept, contents gone */
  assert_int_equal(b.n, 0);
  assert_int_equal(mr__coline_batch_writable(&b, 0), 0);
  /* many items: the arrays grow */
  for (uint32_t i = 0; i < 1000; i++) assert_int_equal(mr__coline_batch_add(&b, i, "12345", 5), 0);
  assert_int_equal(b.end[999], 6000);
  assert_int_equal(b.item[999], 999);
  mr__coline_batch_free(&b);
  mr__coline_batch_free(&b); /* twice is harmless */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lines_whatever_the_pieces),
      cmocka_unit_test(test_error_marker),
      cmocka_unit_test(test_result_lines),
      cmocka_unit_test(test_batch_window),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
