/* test_coproc.c: --worker's kernel on real processes, without MPI: a
 * chunk in, records and output lines out; a crash, an exit, a hang, an
 * error line and two lines for one item each cost that item alone; a
 * command that cannot start fails the thread's start; a stop drops the
 * item in flight and hands the rest back. */
#include "tu.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include "farm/chunk.h"
#include "run/coproc.h"
#include "run/job.h"

typedef struct run {
  mr__coproc *c;
  mr__kernel k;
  void *state;
  mr_buf work, result;
} run;

static void run_start(run *r, const char *cmd, int raw) {
  memset(r, 0, sizeof *r);
  mr_buf why = {0};
  assert_int_equal(mr__coproc_new(cmd, raw, &r->c, &why), 0);
  mr_buf_free(&why);
  r->k = mr__coproc_kernel(r->c);
  assert_int_equal(r->k.thread_init(r->k.ctx, &r->state), 0);
}

static void run_end(run *r) {
  r->k.thread_fini(r->k.ctx, r->state);
  mr__coproc_free(r->c);
  mr_buf_free(&r->work);
  mr_buf_free(&r->result);
}

/* Runs items (NULL-terminated; "!" an item known bad) as one chunk. */
static const mr__result_hdr *run_chunk(run *r, const char *const *items, uint32_t flags,
                                       double timeout) {
  mr__work_begin(&r->work, 1, 0, flags, 0, timeout);
  for (const char *const *it = items; *it; it++)
    assert_int_equal(work_add(&r->work, *it, strlen(*it), strcmp(*it, "!") ? 0 : MR_EINVAL), 0);
  assert_int_equal(mr__chunk_compute(&r->k, r->state, r->work.data, &r->result), 0);
  assert_int_equal(mr__result_check(r->result.data, r->result.len), 0);
  return result_hdr(&r->result);
}

/* Item i's output, NUL-terminated in a static buffer. */
static const char *out_of(run *r, uint32_t i) {
  static char buf[512];
  const mr__rec *rec = result_recs(r->result.data);
  const char *d = mr__result_data(r->result.data);
  for (uint32_t k = 0; k < i; k++) d += rec[k].len;
  snprintf(buf, sizeof buf, "%.*s", (int)rec[i].len, d);
  return buf;
}

static int status_of(run *r, uint32_t i) { return result_recs(r->result.data)[i].status; }

static const char *script(const char *name, const char *body) {
  static char path[4][256];
  static int k;
  char *p = path[k++ % 4];
  tu_path(p, 256, name);
  tu_write(p, body, strlen(body));
  chmod(p, 0755);
  return p;
}

static void test_lines_in_lines_out(void **st) {
  (void)st;
  run r;
  run_start(&r, "cat", 0);
  const char *items[] = {"1", "two words", "!", "\tx", NULL};
  const mr__result_hdr *h = run_chunk(&r, items, 0, 0);
  assert_int_equal(h->n, 4);
  assert_int_equal(h->nfail, 1);
  assert_string_equal(out_of(&r, 0), "1\t1\n");
  assert_string_equal(out_of(&r, 1), "two words\ttwo words\n");
  assert_int_equal(status_of(&r, 2), MR_EINVAL); /* known bad: never sent */
  assert_string_equal(out_of(&r, 3), "\tx\t\tx\n");
  /* the same process, a second chunk, raw and with times */
  run_end(&r);
  run_start(&r, "cat", 1);
  const char *more[] = {"a", "b", NULL};
  h = run_chunk(&r, more, MR__WORK_TIMES, 0);
  assert_int_equal(h->nfail, 0);
  assert_string_equal(out_of(&r, 1), "b\n");
  assert_non_null(mr__result_times(r.result.data));
  run_end(&r);
}

static void test_many_items_never_deadlock(void **st) {
  (void)st;
  /* far more than a pipe holds, each way: written while answers are read */
  run r;
  run_start(&r, "cat", 1);
  enum { N = 20000 };
  static char text[N][16];
  static const char *items[N + 1];
  for (int i = 0; i < N; i++) {
    snprintf(text[i], sizeof text[i], "item-%08d", i);
    items[i] = text[i];
  }
  items[N] = NULL;
  const mr__result_hdr *h = run_chunk(&r, items, 0, 0);
  assert_int_equal(h->n, N);
  assert_int_equal(h->nfail, 0);
  assert_string_equal(out_of(&r, N - 1), "item-00019999\n");
  run_end(&r);
}

static void test_a_crash_costs_one_item(void **st) {
  (void)st;
  const char *w = script("crash.sh",
                         "#!/bin/sh\nwhile read -r x; do\n"
                         "  [ \"$x\" = boom ] && kill -9 $$\n"
                         "  [ \"$x\" = quit ] && exit 3\n"
                         "  [ \"$x\" = bad ] && { printf '\\025 no good\\n'; continue; }\n"
                         "  echo \"<$x>\"\ndone\n");
  run r;
  run_start(&r, w, 1);
  const char *items[] = {"a", "boom", "b", "quit", "bad", "c", NULL};
  run_chunk(&r, items, MR__WORK_TIMES, 0);
  assert_string_equal(out_of(&r, 0), "<a>\n");
  assert_int_equal(status_of(&r, 1), MR_ESIGNAL);
  assert_string_equal(out_of(&r, 1), "the worker was killed by signal 9 (Killed)");
  assert_int_equal(mr__result_times(r.result.data)[1].signal, SIGKILL);
  assert_string_equal(out_of(&r, 2), "<b>\n"); /* the rest of the batch, re-run */
  assert_int_equal(status_of(&r, 3), MR_EEXIT);
  assert_string_equal(out_of(&r, 3), "the worker exited with status 3");
  assert_int_equal(mr__result_times(r.result.data)[3].exitval, 3);
  assert_int_equal(status_of(&r, 4), MR_EJOB);
  assert_string_equal(out_of(&r, 4), "no good");
  assert_string_equal(out_of(&r, 5), "<c>\n");
  run_end(&r);
}

static void test_a_hang_times_out(void **st) {
  (void)st;
  const char *w = script("hang.sh",
                         "#!/bin/sh\nwhile read -r x; do\n"
                         "  [ \"$x\" = hang ] && exec sleep 600\n"
                         "  echo \"$x\"\ndone\n");
  run r;
  run_start(&r, w, 1);
  const char *items[] = {"a", "hang", "b", NULL};
  run_chunk(&r, items, 0, 0.3);
  assert_string_equal(out_of(&r, 0), "a\n");
  assert_int_equal(status_of(&r, 1), MR_ETIMEDOUT);
  assert_string_equal(out_of(&r, 1), "timed out after 0.3 s without an answer");
  assert_string_equal(out_of(&r, 2), "b\n");
  run_end(&r);
}

static void test_two_lines_for_one_item(void **st) {
  (void)st;
  const char *w = script("two.sh",
                         "#!/bin/sh\nwhile read -r x; do\n"
                         "  [ \"$x\" = two ] && { printf 'x\\ny\\n'; continue; }\n"
                         "  echo \"$x\"\ndone\n");
  run r;
  run_start(&r, w, 1);
  const char *items[] = {"a", "b", "two", NULL};
  run_chunk(&r, items, 0, 0);
  assert_string_equal(out_of(&r, 0), "a\n");
  assert_string_equal(out_of(&r, 1), "b\n");
  assert_int_equal(status_of(&r, 2), MR_EJOB);
  assert_non_null(strstr(out_of(&r, 2), "more than one line"));
  const char *next[] = {"c", "d", NULL}; /* a new process, in step */
  const mr__result_hdr *h = run_chunk(&r, next, 0, 0);
  assert_int_equal(h->nfail, 0);
  assert_string_equal(out_of(&r, 1), "d\n");
  run_end(&r);
}

static void test_ended_without_answering(void **st) {
  (void)st;
  const char *w = script("short.sh", "#!/bin/sh\nread -r x; echo \"$x\"\nread -r x\n");
  run r;
  run_start(&r, w, 1);
  const char *items[] = {"a", "b", "c", NULL};
  run_chunk(&r, items, 0, 0);
  assert_string_equal(out_of(&r, 0), "a\n");
  assert_int_equal(status_of(&r, 1), MR_EEXIT);
  assert_non_null(strstr(out_of(&r, 1), "malformed answer"));
  assert_string_equal(out_of(&r, 2), "c\n");
  run_end(&r);
}

static void test_cannot_start(void **st) {
  (void)st;
  mr__coproc *c = NULL;
  mr_buf why = {0};
  assert_int_equal(mr__coproc_new("no-such-command-here x", 0, &c, &why), MR_ENOENT);
  assert_string_equal(why.data, "--worker: command not found: no-such-command-here");
  why.len = 0;
  /* starts, and exits before any answer: tried again, then the run ends */
  assert_int_equal(mr__coproc_new("sh -c 'exit 2'", 0, &c, &why), 0);
  mr__kernel k = mr__coproc_kernel(c);
  void *state;
  assert_int_equal(k.thread_init(k.ctx, &state), 0);
  mr_buf work = {0}, result = {0};
  mr__work_begin(&work, 1, 0, 0, 0, 0);
  assert_int_equal(work_add(&work, "1", 1, 0), 0);
  assert_int_equal(mr__chunk_compute(&k, state, work.data, &result), MR_ECRASH);
  assert_int_equal(mr__coproc_failure(c, &why), 1);
  assert_non_null(strstr(why.data, "never answered: it exited with status 2"));
  k.thread_fini(k.ctx, state);
  mr__coproc_free(c);
  mr_buf_free(&work);
  mr_buf_free(&result);
  mr_buf_free(&why);
}

static void test_a_stop_drops_the_item_in_flight(void **st) {
  (void)st;
  char started[256];
  tu_path(started, sizeof started, "slow.started");
  char body[512];
  snprintf(body, sizeof body,
           "#!/bin/sh\nwhile read -r x; do\n"
           "  [ \"$x\" = slow ] && : > '%s' && sleep 600\n"
           "  echo \"$x\"\ndone\n", started);
  const char *w = script("slow.sh", body);
  run r;
  run_start(&r, w, 1);
  mr__job_watch_stop(&tu_stop);
  pthread_t t = tu_stop_once(started); /* "a" answered, "slow" in flight */
  const char *items[] = {"a", "slow", "b", NULL};
  run_chunk(&r, items, 0, 0);
  pthread_join(t, NULL);
  assert_string_equal(out_of(&r, 0), "a\n");
  assert_int_equal(status_of(&r, 1), MR__DROPPED);
  assert_int_equal(status_of(&r, 2), MR__NOTRUN);
  run_end(&r);
  mr__job_watch_stop(NULL);
  tu_stop = 0;
}

static void test_describe(void **st) {
  (void)st;
  mr_buf b = {0};
  mr__coproc_describe("python3 w.py", "42", 2, &b);
  assert_string_equal(b.data, "python3 w.py <<< 42");
  b.len = 0;
  mr__coproc_describe("w", "it's $x", 7, &b);
  assert_string_equal(b.data, "w <<< 'it'\\''s $x'");
  mr_buf_free(&b);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* as the program does */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lines_in_lines_out),
      cmocka_unit_test(test_many_items_never_deadlock),
      cmocka_unit_test(test_a_crash_costs_one_item),
      cmocka_unit_test(test_a_hang_times_out),
      cmocka_unit_test(test_two_lines_for_one_item),
      cmocka_unit_test(test_ended_without_answering),
      cmocka_unit_test(test_cannot_start),
      cmocka_unit_test(test_a_stop_drops_the_item_in_flight),
      cmocka_unit_test(test_describe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
