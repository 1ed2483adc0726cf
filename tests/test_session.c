/* test_session.c: the files of a run, without MPI: a fresh -o run, its
 * resume, a resume that is refused, one file in two roles, a start that
 * fails. What the farm and the text sink would write is written here by
 * hand: results, journal records and joblog lines. */
#include "tu.h"

#include <sys/stat.h>

#include "run/job.h"
#include "text/doneset.h"
#include "text/session.h"

static volatile sig_atomic_t no_stop;

/* A run of the prime job writing -o DIR/NAME from DIR/NAME.in, with
 * joblog DIR/NAME.log when log is set. */
typedef struct t_run {
  char out[128], in[160], partial[160], journal[160], log[160];
  mr__session_cfg cfg;
  mr__session s;
  mr_buf why;
} t_run;

static void t_init(t_run *r, const char *name, const char *input, int log, int resume) {
  memset(r, 0, sizeof *r);
  tu_path(r->out, sizeof r->out, name);
  snprintf(r->in, sizeof r->in, "%s.in", r->out);
  snprintf(r->partial, sizeof r->partial, "%s.partial", r->out);
  snprintf(r->journal, sizeof r->journal, "%s.journal", r->out);
  snprintf(r->log, sizeof r->log, "%s.log", r->out);
  if (input) tu_write(r->in, input, strlen(input));
  void *plugin = NULL;
  const mr_job *job = NULL;
  assert_int_equal(mr__job_load("prime", &job, &plugin, &r->why), 0);
  r->cfg.input = r->in;
  r->cfg.output = r->out;
  r->cfg.joblog = log ? r->log : NULL;
  r->cfg.resume = resume;
  r->cfg.job_name = "prime";
  r->cfg.job = job;
  r->cfg.stop = &no_stop;
}

static int t_open(t_run *r) {
  r->why.len = 0;
  return mr__session_open(&r->s, &r->cfg, &r->why);
}

static void t_close(t_run *r) {
  mr__session_close(&r->s);
  mr_buf_free(&r->why);
}

/* Items seq0.. of the input, done, as the text sink records them. */
static void t_items(t_run *r, uint64_t seq0, const char *const *items, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const char *it = items[i];
    size_t len = strlen(it);
    uint64_t seq = seq0 + i, h = mr__doneset_hash(it, len);
    assert_int_equal(mr__output_write(r->s.out, it, len), 0);
    assert_int_equal(mr__output_write(r->s.out, "\tr\n", 3), 0);
    if (r->s.journal)
      assert_int_equal(mr__journal_result(r->s.journal, seq, seq + 1,
                                          mr__output_size(r->s.out), h,
                                          mr__doneset_chain(0, h)),
                       0);
    if (r->s.joblog) {
      mr_buf cmd = {0};
      mr__session_describe(&r->cfg, it, len, seq, &cmd);
      assert_int_equal(mr__joblog_add(r->s.joblog, seq, ":", 1.0, 0.5, 2, 0, 0, cmd.data,
                                      cmd.len),
                       0);
      mr_buf_free(&cmd);
    }
  }
  assert_int_equal(mr__output_flush(r->s.out), 0);
  if (r->s.journal) assert_int_equal(mr__journal_sync(r->s.journal, NULL), 0);
  if (r->s.joblog) assert_int_equal(mr__joblog_sync(r->s.joblog, NULL), 0);
}

static const char *const items[] = {"2", "3", "4"};

/* A run stopped after some items: what is done is kept for --resume. */
static void t_stop(t_run *r) {
  assert_int_equal(mr__output_keep(r->s.out), 0);
  t_close(r);
}

/* A run of all three items, complete (FILE in place, a joblog when log). */
static void t_finished(t_run *r, const char *name, int log) {
  t_init(r, name, "2\n3\n4\n", log, 0);
  assert_int_equal(t_open(r), 0);
  t_items(r, 0, items, 3);
  assert_int_equal(mr__session_complete(&r->s, NULL), 0);
  t_close(r);
}

/* A run stopped after two of the three items. */
static void t_stopped(t_run *r, const char *name) {
  t_init(r, name, "2\n3\n4\n", 0, 0);
  assert_int_equal(t_open(r), 0);
  t_items(r, 0, items, 2);
  t_stop(r);
}

/* Neither FILE.partial nor FILE.journal is there. */
static void assert_no_leftovers(const t_run *r) {
  assert_false(tu_exists(r->partial));
  assert_false(tu_exists(r->journal));
}

static void assert_file(const char *path, const char *want) {
  size_t len;
  char *got = tu_read(path, &len);
  assert_non_null(got);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(got, want, len);
  free(got);
}

static void test_describe_as_the_joblog_writes_it(void **st) {
  (void)st;
  t_run r;
  t_init(&r, "describe", NULL, 0, 0);
  mr_buf d = {0};
  mr__session_describe(&r.cfg, "7\n8", 3, 0, &d);
  assert_int_equal(d.len, 9);
  assert_memory_equal(d.data, "prime 7 8", 9); /* as the joblog writes it */
  mr_buf_free(&d);
  t_close(&r);
}

static void test_fresh_run(void **st) {
  (void)st;
  t_run r;
  t_init(&r, "fresh", "2\n3\n4\n", 1, 0);
  assert_int_equal(t_open(&r), 0);
  assert_non_null(r.s.in);
  assert_non_null(r.s.journal);
  assert_null(r.s.done);
  assert_false(tu_exists(r.out)); /* in place only when complete */
  assert_true(tu_exists(r.partial));
  assert_true(tu_exists(r.journal));
  mr__textsink ts;
  mr__session_textsink(&r.s, &ts);
  assert_ptr_equal(ts.out, r.s.out);
  assert_ptr_equal(ts.journal, r.s.journal);
  assert_ptr_equal(ts.joblog, r.s.joblog);
  assert_string_equal(ts.mr__input_name, mr__input_name(r.s.in));
  t_items(&r, 0, items, 3);
  assert_int_equal(mr__session_complete(&r.s, NULL), 0);
  t_close(&r);
  assert_file(r.out, "2\tr\n3\tr\n4\tr\n");
  assert_no_leftovers(&r);
  char *log = tu_read(r.log, NULL);
  assert_non_null(strstr(log, "\tprime 4\n"));
  free(log);
}

static void test_resume_of_a_finished_run_changes_nothing(void **st) {
  (void)st;
  t_run r;
  t_finished(&r, "finished", 1);
  char *out = tu_read(r.out, NULL), *log = tu_read(r.log, NULL);

  t_init(&r, "finished", NULL, 1, 1);
  assert_int_equal(t_open(&r), 0);
  assert_int_equal(r.s.finished, 1);
  assert_non_null(r.s.done);
  assert_int_equal(r.s.done_by_command, 1);
  mr__src src;
  mr__session_src(&r.s, &src); /* an item to run would be refused */
  assert_string_equal(src.finished_output, r.out);
  assert_ptr_equal(src.done, r.s.done);
  assert_true(src.check_text == mr__session_describe); /* by command */
  assert_int_equal(src.rerun_failed, 0);
  assert_int_equal(mr__session_complete(&r.s, NULL), 0);
  t_close(&r);
  assert_file(r.out, out);
  assert_file(r.log, log);
  assert_no_leftovers(&r);
  free(out);
  free(log);
}

static void test_resume_continues_a_stopped_run(void **st) {
  (void)st;
  t_run r;
  t_stopped(&r, "stopped");
  assert_false(tu_exists(r.out));
  assert_file(r.partial, "2\tr\n3\tr\n");

  t_init(&r, "stopped", NULL, 0, 0); /* without --resume: refused */
  assert_int_equal(t_open(&r), MR_EINVAL);
  assert_non_null(strstr(r.why.data, "holds an unfinished run: add --resume"));
  t_close(&r);
  assert_file(r.partial, "2\tr\n3\tr\n");
  assert_true(tu_exists(r.journal));

  t_init(&r, "stopped", NULL, 0, 1);
  assert_int_equal(t_open(&r), 0);
  assert_non_null(r.s.done);
  assert_int_equal(r.s.finished, 0);
  t_items(&r, 2, items + 2, 1);
  assert_int_equal(mr__session_complete(&r.s, NULL), 0);
  t_close(&r);
  assert_file(r.out, "2\tr\n3\tr\n4\tr\n");
  assert_no_leftovers(&r);
}

static void test_refused_resume_leaves_files(void **st) {
  (void)st;
  t_run r;
  t_stopped(&r, "refused");
  char *journal = tu_read(r.journal, NULL);

  t_init(&r, "refused", "2\n5\n4\n", 0, 1); /* another input */
  assert_int_equal(t_open(&r), MR_EINVAL);
  assert_true(r.why.len > 0);
  t_close(&r);
  assert_file(r.partial, "2\tr\n3\tr\n");
  assert_file(r.journal, journal);

  t_init(&r, "refused", "2\n3\n4\n", 0, 1); /* another job */
  r.cfg.job_name = "square";
  assert_int_equal(t_open(&r), MR_EINVAL);
  assert_true(r.why.len > 0);
  t_close(&r);
  assert_file(r.partial, "2\tr\n3\tr\n");
  assert_file(r.journal, journal);
  free(journal);
}

static void test_one_file_in_two_roles(void **st) {
  (void)st;
  t_run r;
  t_init(&r, "roles", "2\n3\n", 0, 0);
  r.cfg.joblog = r.in;
  assert_int_equal(t_open(&r), MR_EINVAL);
  mr_buf want = {0};
  mr_buf_printf(&want, "INPUT '%s' and --joblog '%s' are one file; give each its own",
                r.in, r.in);
  assert_string_equal(r.why.data, want.data);
  t_close(&r);
  assert_file(r.in, "2\n3\n"); /* not truncated */
  assert_no_leftovers(&r);

  t_init(&r, "roles", NULL, 0, 0);
  r.cfg.joblog = r.journal; /* the output's own journal */
  assert_int_equal(t_open(&r), MR_EINVAL);
  assert_non_null(strstr(r.why.data, "are one file; give each its own"));
  t_close(&r);
  assert_no_leftovers(&r);
  mr_buf_free(&want);
}

static void test_failed_start_leaves_nothing(void **st) {
  (void)st;
  t_run r;
  t_init(&r, "failed", "2\n3\n", 0, 0);
  char log[160];
  r.cfg.joblog = tu_path(log, sizeof log, "no-such-dir/log");
  assert_int_equal(t_open(&r), MR_ENOENT);
  mr_buf want = {0};
  mr_buf_printf(&want, "cannot write '%s': %s", log, strerror(ENOENT));
  assert_string_equal(r.why.data, want.data);
  mr_buf_free(&want);
  t_close(&r);
  assert_false(tu_exists(r.out));
  assert_no_leftovers(&r);

  t_init(&r, "failed", NULL, 0, 0);
  r.cfg.input = tu_path(log, sizeof log, "no-such-input");
  assert_int_equal(t_open(&r), MR_ENOENT);
  assert_non_null(strstr(r.why.data, "cannot read '"));
  t_close(&r);
  assert_no_leftovers(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_describe_as_the_joblog_writes_it),
      cmocka_unit_test(test_fresh_run),
      cmocka_unit_test(test_resume_of_a_finished_run_changes_nothing),
      cmocka_unit_test(test_resume_continues_a_stopped_run),
      cmocka_unit_test(test_refused_resume_leaves_files),
      cmocka_unit_test(test_one_file_in_two_roles),
      cmocka_unit_test(test_failed_start_leaves_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
