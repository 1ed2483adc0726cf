/* test_filter.c: a command fed on stdin while its stdout is read: the
 * bytes go through whole, a command that writes far more than a pipe holds
 * before reading cannot deadlock, one that never reads is fine, and its
 * exit status, its signal, a failing callback and a stop end it. */
#include "tu.h"

#include "run/filter.h"
#include "run/job.h"

/* the input: `blocks` blocks of `line` repeated */
typedef struct feeder {
  int blocks;
  const char *line;
  size_t fed;
} feeder;

static int feed(void *ctx, mr_buf *out) {
  feeder *f = ctx;
  if (f->blocks <= 0) return 0;
  f->blocks--;
  for (int i = 0; i < 1000; i++) mr_buf_puts(out, f->line);
  f->fed += out->len;
  return 0;
}

static int take(void *ctx, const char *p, size_t n) {
  return mr_buf_append(ctx, p, n) ? MR_ENOMEM : 0;
}

static int take_fails(void *ctx, const char *p, size_t n) {
  (void)ctx;
  (void)p;
  (void)n;
  return MR_EIO;
}

static void test_bytes_go_through(void **st) {
  (void)st;
  feeder f = {100, "key\tvalue\n", 0};
  mr_buf out = {0}, why = {0};
  assert_int_equal(mr__filter_run("cat", feed, &f, take, &out, &why), 0);
  assert_int_equal(out.len, f.fed);
  assert_int_equal(out.len, 100 * 1000 * 10);
  assert_int_equal(why.len, 0);
  mr_buf_free(&out);
}

/* 4 MB out before a byte is read, 1 MB in: both pipes full at once unless
 * they flow together */
static void test_writes_before_reading(void **st) {
  (void)st;
  feeder f = {100, "0123456789\n", 0};
  mr_buf out = {0}, why = {0};
  assert_int_equal(mr__filter_run("head -c 4000000 /dev/zero; wc -c", feed, &f, take,
                                   &out, &why), 0);
  assert_int_equal(out.len, 4000000 + strlen("1100000\n"));
  assert_string_equal(out.data + 4000000, "1100000\n");
  mr_buf_free(&out);
}

static void test_never_reads(void **st) {
  (void)st;
  feeder f = {1000, "never read\n", 0};
  mr_buf out = {0}, why = {0};
  assert_int_equal(mr__filter_run("echo done", feed, &f, take, &out, &why), 0);
  assert_string_equal(out.data, "done\n");
  mr_buf_free(&out);
}

static void test_status_and_signal(void **st) {
  (void)st;
  feeder f = {3, "x\n", 0};
  mr_buf out = {0}, why = {0};
  assert_int_equal(mr__filter_run("cat > /dev/null; exit 3", feed, &f, take, &out, &why),
                   MR_EEXIT);
  assert_string_equal(why.data, "'cat > /dev/null; exit 3' exited with status 3");
  why.len = 0;
  f.blocks = 3;
  assert_int_equal(mr__filter_run("kill -9 $$", feed, &f, take, &out, &why), MR_ESIGNAL);
  assert_non_null(strstr(why.data, "killed by signal 9"));
  why.len = 0;
  f.blocks = 3;
  assert_int_equal(mr__filter_run("no-such-command-here", feed, &f, take, &out, &why),
                   MR_EEXIT);
  assert_non_null(strstr(why.data, "status 127"));
  mr_buf_free(&out);
  mr_buf_free(&why);
}

/* a take that fails ends the command at once; so does a stop */
static void test_failure_and_stop_end_it(void **st) {
  (void)st;
  feeder f = {3, "x\n", 0};
  mr_buf why = {0};
  time_t t0 = time(NULL);
  assert_int_equal(mr__filter_run("echo a; exec sleep 100", feed, &f, take_fails, NULL, &why),
                   MR_EIO);
  mr__job_watch_stop(&tu_stop);
  pthread_t t = tu_stop_later();
  f.blocks = 3;
  mr_buf out = {0};
  assert_int_equal(mr__filter_run("exec sleep 100", feed, &f, take, &out, &why), MR_EINTR);
  pthread_join(t, NULL);
  mr__job_watch_stop(NULL);
  assert_true(time(NULL) - t0 < 20);
  mr_buf_free(&out);
  mr_buf_free(&why);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* as the program does */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bytes_go_through),
      cmocka_unit_test(test_writes_before_reading),
      cmocka_unit_test(test_never_reads),
      cmocka_unit_test(test_status_and_signal),
      cmocka_unit_test(test_failure_and_stop_end_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
