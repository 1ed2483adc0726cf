/* test_textjob.c: output lines as the workers format them, error lines as
 * the master writes them, --halt as it is parsed, and --isolate keeping a
 * crash to its item. */
#include "tu.h"

#include "run/isolate.h"
#include "run/job.h"
#include "text/output.h"
#include "text/textjob.h"
#include "text/textsink.h"

static int run_item(const mr__kernel *k, void *state, const char *item,
                    mr_buf *out) {
  out->len = 0;
  mr__times t = {0, 0, 0, 0, 0};
  int rc = k->run(state, item, strlen(item), 0, out, &t);
  if (mr_buf_reserve(out, 1)) fail();
  out->data[out->len] = '\0';
  return rc;
}

static void test_one_line_escapes_newlines(void **st) {
  (void)st;
  mr_buf b = {0};
  mr_buf_puts(&b, "keep\nA\nB\r\n");
  assert_int_equal(mr__textjob_one_line(&b, 5), 0);
  assert_string_equal(b.data, "keep\nA\\nB\\r\\n");
  assert_int_equal(b.len, strlen(b.data));
  mr_buf_free(&b);
}

static void test_item_tab_result_newline(void **st) {
  (void)st;
  mr__textjob tj = {mr__job_builtin("square"), NULL, NULL, 0, NULL, NULL};
  mr__kernel k = mr__textjob_kernel(&tj);
  void *state = NULL;
  assert_int_equal(k.thread_init(k.ctx, &state), 0);
  mr_buf out = {0};
  assert_int_equal(run_item(&k, state, "-12", &out), 0);
  assert_string_equal(out.data, "-12\t144\n");
  /* a failure is its message alone, on one line, no item, no newline */
  assert_int_equal(run_item(&k, state, "12abc", &out), MR_EINVAL);
  assert_string_equal(out.data, "not an integer: '12abc'");
  k.thread_fini(k.ctx, state);
  /* --raw: the result alone */
  mr__textjob raw = {mr__job_builtin("cube"), NULL, NULL, 1, NULL, NULL};
  k = mr__textjob_kernel(&raw);
  assert_int_equal(k.thread_init(k.ctx, &state), 0);
  assert_int_equal(run_item(&k, state, "3", &out), 0);
  assert_string_equal(out.data, "27\n");
  k.thread_fini(k.ctx, state);
  mr_buf_free(&out);
}

/* a job may return any number; the farm's own statuses must not leak in
 * (-1000 would read as "handed back" and go round for ever) */
static int odd_run(void *state, const char *item, size_t len, mr_buf *out) {
  (void)state;
  (void)out;
  return (int)strtol(item, NULL, 10) + (int)(len - len);
}

/* a job whose answer is several lines: short and long (past the loop that
 * looks for newlines in short answers) */
static int lines_run(void *state, const char *item, size_t len, mr_buf *out) {
  (void)state;
  (void)item;
  if (len == 1) return mr_buf_puts(out, "a\nb");
  return mr_buf_puts(out, "0123456789012345678901234567890123456789\nz");
}

/* job as a kernel (tj must outlive it), its thread state made */
static mr__kernel job_kernel(const mr_job *job, mr__textjob *tj, void **state) {
  *tj = (mr__textjob){job, NULL, NULL, 0, NULL, NULL};
  mr__kernel k = mr__textjob_kernel(tj);
  *state = NULL;
  assert_int_equal(k.thread_init(k.ctx, state), 0);
  return k;
}

static void test_answers_of_several_lines_become_one(void **st) {
  (void)st;
  const mr_job lines = {.abi = MR_ABI_VERSION, .name = "lines", .run = lines_run};
  mr__textjob tj;
  void *state;
  mr__kernel k = job_kernel(&lines, &tj, &state);
  mr_buf out = {0};
  assert_int_equal(run_item(&k, state, "s", &out), 0);
  assert_string_equal(out.data, "s\ta\\nb\n");
  assert_int_equal(run_item(&k, state, "long", &out), 0);
  assert_string_equal(out.data,
                      "long\t0123456789012345678901234567890123456789\\nz\n");
  k.thread_fini(k.ctx, state);
  mr_buf_free(&out);
}

static void test_job_codes_are_kept_to_mr_errors(void **st) {
  (void)st;
  const mr_job odd = {.abi = MR_ABI_VERSION, .name = "odd", .run = odd_run};
  mr__textjob tj;
  void *state;
  mr__kernel k = job_kernel(&odd, &tj, &state);
  mr_buf out = {0};
  assert_int_equal(run_item(&k, state, "-1000", &out), MR_EJOB);
  assert_int_equal(run_item(&k, state, "-1001", &out), MR_EJOB);
  assert_int_equal(run_item(&k, state, "7", &out), MR_EJOB);
  assert_int_equal(run_item(&k, state, "-1", &out), MR_EINVAL);
  k.thread_fini(k.ctx, state);
  mr_buf_free(&out);
}

static void test_error_lines_name_file_and_line(void **st) {
  (void)st;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  mr__textsink ts;
  memset(&ts, 0, sizeof ts);
  ts.errs = f;
  ts.mr__input_name = "nums.txt";
  ts.max_line = 1000;
  mr__textsink_report(&ts, 12, MR_EINVAL, "not an integer: '1e3'", 21);
  mr__textsink_report(&ts, 13, MR_ETOOLONG, "", 0);
  mr__textsink_report(&ts, 14, MR_ECRASH, "", 0);
  fclose(f);
  char want[256];
  snprintf(want, sizeof want,
           "nums.txt:12: error: not an integer: '1e3'\n"
           "nums.txt:13: error: line too long (over 1000 bytes)\n"
           "nums.txt:14: error: %s\n", mr_strerror(MR_ECRASH));
  assert_string_equal(text, want);
  free(text);
}

static void test_halt_specs(void **st) {
  (void)st;
  mr__halt h;
  assert_int_equal(mr__textsink_parse_halt("never", &h), 0);
  assert_int_equal(h.when, 0);
  assert_int_equal(mr__textsink_parse_halt("soon,fail=3", &h), 0);
  assert_int_equal(h.when, MR__HALT_SOON);
  assert_int_equal(h.fail_n, 3);
  assert_int_equal(mr__textsink_parse_halt("now,fail=10%", &h), 0);
  assert_int_equal(h.when, MR__HALT_NOW);
  assert_true(h.fail_pct == 10);
  assert_int_equal(mr__textsink_parse_halt("now", &h), 0);
  assert_int_equal(h.fail_n, 1);
  const char *bad[] = {"", "later", "soon,fail=", "soon,fail=0", "now,fail=-1",
                       "soon,fail=2.5", "now,fail=101%", "soon,success=1",
                       "soon,fail=3x"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(mr__textsink_parse_halt(bad[i], &h), MR_EINVAL);
}

static void test_isolate_keeps_a_crash_to_its_item(void **st) {
  (void)st;
  mr__textjob tj = {mr__job_builtin("crash"), NULL, NULL, 0, NULL, NULL};
  mr__kernel inner = mr__textjob_kernel(&tj);
  mr__isolate iso = {&inner};
  mr__kernel k = mr__isolate_kernel(&iso);
  void *state = NULL;
  assert_int_equal(k.thread_init(k.ctx, &state), 0);
  /* a whole chunk: the child dies on items 2 and 4, and comes back */
  mr_buf w = {0}, r = {0};
  mr__work_begin(&w, 1, 0, 0, 0, 0);
  const char *items[] = {"a", "segv", "b", "abort", "exit", "c"};
  for (int i = 0; i < 6; i++) assert_int_equal(work_add(&w, items[i], strlen(items[i]), 0), 0);
  assert_int_equal(mr__chunk_compute(&k, state, w.data, &r), 0);
  const mr__rec *rec = result_recs(r.data);
  assert_int_equal(rec[0].status, 0);
  assert_int_equal(rec[1].status, MR_ECRASH);
  assert_int_equal(rec[2].status, 0);
  assert_int_equal(rec[3].status, MR_ECRASH);
  assert_true(rec[4].status < 0);
  assert_int_equal(rec[5].status, 0);
  const char *d = mr__result_data(r.data);
  assert_memory_equal(d, "a\ta\n", 4);
  d += rec[0].len;
  assert_non_null(memmem(d, rec[1].len, "signal 11", 9));
  /* and a hang is cut short by the time limit */
  w.len = 0;
  mr__work_begin(&w, 2, 6, 0, 0, 0.3);
  assert_int_equal(work_add(&w, "hang", 4, 0), 0);
  assert_int_equal(work_add(&w, "d", 1, 0), 0);
  assert_int_equal(mr__chunk_compute(&k, state, w.data, &r), 0);
  rec = result_recs(r.data);
  assert_int_equal(rec[0].status, MR_ETIMEDOUT);
  assert_int_equal(rec[1].status, 0);
  k.thread_fini(k.ctx, state);
  mr_buf_free(&w);
  mr_buf_free(&r);
}

/* Runs [a, ITEM, b, c] and checks a stop 0.1 s in left ITEM dropped and
 * what follows it unrun, a finished. */
static void expect_stop_on(const mr__kernel *k, void *state, const char *item) {
  mr_buf w = {0}, r = {0};
  mr__work_begin(&w, 1, 0, 0, 0, 0);
  const char *items[] = {"a", item, "b", "c"};
  for (int i = 0; i < 4; i++) assert_int_equal(work_add(&w, items[i], strlen(items[i]), 0), 0);
  pthread_t t = tu_stop_later();
  assert_int_equal(mr__chunk_compute(k, state, w.data, &r), 0);
  pthread_join(t, NULL);
  assert_int_equal(mr__result_check(r.data, r.len), 0);
  const mr__rec *rec = result_recs(r.data);
  assert_int_equal(result_hdr(&r)->n, 4);
  assert_int_equal(rec[0].status, 0);
  assert_int_equal(rec[1].status, MR__DROPPED);
  assert_int_equal(rec[2].status, MR__NOTRUN);
  assert_int_equal(rec[3].status, MR__NOTRUN);
  assert_memory_equal(mr__result_data(r.data), "a\ta\n", 4);
  mr_buf_free(&w);
  mr_buf_free(&r);
}

/* A stop cuts the running item short, in the rank or in an --isolate
 * child (a job that ignores it, killed), and starts no more of its chunk:
 * all are left for --resume. */
static void test_a_stop_leaves_the_item_for_resume(void **st) {
  (void)st;
  mr__job_watch_stop(&tu_stop);
  mr__textjob tj = {mr__job_builtin("crash"), NULL, NULL, 0, &tu_stop, NULL};
  mr__kernel k = mr__textjob_kernel(&tj);
  void *state = NULL;
  assert_int_equal(k.thread_init(k.ctx, &state), 0);
  expect_stop_on(&k, state, "sleep:1e7");
  k.thread_fini(k.ctx, state);
  mr__isolate iso = {&k};
  mr__kernel ik = mr__isolate_kernel(&iso);
  tu_stop = 0;
  assert_int_equal(ik.thread_init(ik.ctx, &state), 0);
  expect_stop_on(&ik, state, "hang");
  ik.thread_fini(ik.ctx, state);
  mr__job_watch_stop(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_line_escapes_newlines),
      cmocka_unit_test(test_item_tab_result_newline),
      cmocka_unit_test(test_answers_of_several_lines_become_one),
      cmocka_unit_test(test_job_codes_are_kept_to_mr_errors),
      cmocka_unit_test(test_error_lines_name_file_and_line),
      cmocka_unit_test(test_halt_specs),
      cmocka_unit_test(test_isolate_keeps_a_crash_to_its_item),
      cmocka_unit_test(test_a_stop_leaves_the_item_for_resume),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
