/* test_options.c: the command line: defaults, what every option sets, and
 * every usage error with its message. */
#include "tu.h"

#include "cli/options.h"
#include "farm/chunk.h"
#include "text/input.h"

static mr_buf why; /* the reason of the last refusal */

/* Parses the arguments after "mapreduce" (NULL-terminated) into *o. */
static int parse(mr__opts *o, ...) {
  char *argv[32] = {"mapreduce"};
  int argc = 1;
  va_list ap;
  va_start(ap, o);
  for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;) argv[argc++] = a;
  va_end(ap);
  argv[argc] = NULL;
  mr_buf_free(&why);
  return mr__options_parse(argc, argv, o, &why);
}

#define PARSE(o, ...) parse(o, __VA_ARGS__, (char *)NULL)
#define OK(o, ...) assert_int_equal(PARSE(o, __VA_ARGS__), 0)

/* The arguments are refused with exactly this reason. */
#define REFUSED(want, ...)                                   \
  do {                                                       \
    mr__opts o_;                                             \
    assert_int_equal(PARSE(&o_, __VA_ARGS__), MR_EINVAL);    \
    assert_non_null(why.data);                               \
    assert_string_equal(why.data, want);                     \
  } while (0)

static void test_defaults(void **st) {
  (void)st;
  mr__opts o;
  char *argv[] = {"mapreduce", NULL};
  mr_buf none = {0};
  assert_int_equal(mr__options_parse(1, argv, &o, &none), 0);
  assert_int_equal(o.action, MR__ACTION_RUN);
  assert_string_equal(o.job, "prime");
  assert_int_equal(o.job_given, 0);
  assert_null(o.input);
  assert_null(o.output);
  assert_null(o.arg);
  assert_null(o.exec);
  assert_null(o.joblog);
  assert_null(o.halt_text);
  assert_int_equal(o.raw, 0);
  assert_int_equal(o.chunksize, 0); /* adaptive */
  assert_int_equal(o.threads, 1);
  assert_int_equal(o.unordered, 0);
  assert_int_equal(o.stats, 0);
  assert_int_equal(o.master_compute, -1); /* auto */
  assert_int_equal(o.isolate, 0);
  assert_int_equal(o.retries, 0);
  assert_int_equal(o.resume, 0);
  assert_true(o.timeout_s == 0 && o.timeout_pct == 0);
  assert_int_equal(o.halt.when, 0);
  assert_int_equal(o.max_line, MR_LINE_MAX_DEFAULT);
  assert_null(none.data);
}

static void test_every_option(void **st) {
  (void)st;
  mr__opts o;
  OK(&o, "-j", "square", "-a", "7", "--raw", "-o", "out",
         "-c", "16", "-t", "4", "-u", "--halt", "soon,fail=3",
         "--isolate", "--timeout", "2.5", "--retries", "2",
         "--joblog", "log", "--resume", "--max-line", "64",
         "--stats", "--master-compute", "no", "in.txt");
  assert_string_equal(o.job, "square");
  assert_int_equal(o.job_given, 1);
  assert_string_equal(o.arg, "7");
  assert_int_equal(o.raw, 1);
  assert_string_equal(o.output, "out");
  assert_int_equal(o.chunksize, 16);
  assert_int_equal(o.threads, 4);
  assert_int_equal(o.unordered, 1);
  assert_string_equal(o.halt_text, "soon,fail=3");
  assert_int_equal(o.halt.when, MR__HALT_SOON);
  assert_int_equal(o.isolate, 1);
  assert_true(o.timeout_s == 2.5 && o.timeout_pct == 0);
  assert_int_equal(o.retries, 2);
  assert_string_equal(o.joblog, "log");
  assert_int_equal(o.resume, 1);
  assert_int_equal(o.max_line, 64);
  assert_int_equal(o.stats, 1);
  assert_int_equal(o.master_compute, 0);
  assert_string_equal(o.input, "in.txt");

  OK(&o, "--job=cube", "--arg=x", "--output=-", "--chunksize=1",
         "--threads=1024", "--unordered", "--master-compute=yes", "-");
  assert_string_equal(o.job, "cube");
  assert_string_equal(o.output, "-");
  assert_int_equal(o.chunksize, 1);
  assert_int_equal(o.threads, 1024);
  assert_int_equal(o.master_compute, 1);
  assert_string_equal(o.input, "-");
  OK(&o, "--master-compute", "auto");
  assert_int_equal(o.master_compute, -1);
  OK(&o, "-c", "16777216", "--retries", "0", "--max-line",
         "1073741824");
  assert_int_equal(o.chunksize, 16777216);
  assert_int_equal(o.max_line, 1u << 30);

  OK(&o, "-e", "echo {}");
  assert_string_equal(o.exec, "echo {}");
  OK(&o, "--exec", "wc -c {}");
  assert_string_equal(o.exec, "wc -c {}");
  OK(&o, "--shell");
  assert_string_equal(o.exec, "");
}

static void test_halt_now_and_percentages(void **st) {
  (void)st;
  mr__opts o;
  OK(&o, "--halt", "now,fail=10%");
  assert_int_equal(o.halt.when, MR__HALT_NOW);
  OK(&o, "--halt", "never");
  assert_int_equal(o.halt.when, 0);
  OK(&o, "--timeout", "200%");
  assert_true(o.timeout_pct == 200 && o.timeout_s == 0);
}

static void test_resume_and_resume_failed(void **st) {
  (void)st;
  mr__opts o;
  OK(&o, "--resume-failed", "--resume", "-o", "f");
  assert_int_equal(o.resume, 2); /* --resume does not undo it */
  OK(&o, "--resume", "--resume-failed", "--joblog", "l");
  assert_int_equal(o.resume, 2);
  OK(&o, "--resume", "--joblog", "l"); /* to stdout */
  assert_int_equal(o.resume, 1);
  REFUSED("--resume needs -o FILE (its journal) or --joblog FILE", "--resume");
  REFUSED("--resume needs -o FILE (its journal) or --joblog FILE", "--resume-failed");
  REFUSED("--resume needs -o FILE (its journal) or --joblog FILE", "--resume", "-o", "-");
}

static void test_timeout_implies_isolate_for_jobs(void **st) {
  (void)st;
  mr__opts o;
  OK(&o, "--timeout", "1");
  assert_int_equal(o.isolate, 1);
  OK(&o, "--timeout", "50%");
  assert_int_equal(o.isolate, 1);
  /* a command is isolated already */
  OK(&o, "--timeout", "1", "-e", "sleep {}");
  assert_int_equal(o.isolate, 0);
}

static void test_done_actions(void **st) {
  (void)st;
  mr__opts o;
  assert_int_equal(PARSE(&o, "-h"), 1);
  assert_int_equal(o.action, MR__ACTION_HELP);
  assert_int_equal(PARSE(&o, "--help", "--bogus"), 1); /* stops there */
  assert_int_equal(o.action, MR__ACTION_HELP);
  assert_int_equal(PARSE(&o, "--version"), 1);
  assert_int_equal(o.action, MR__ACTION_VERSION);
  assert_int_equal(PARSE(&o, "--list-jobs"), 1);
  assert_int_equal(o.action, MR__ACTION_LIST);
  assert_int_equal(PARSE(&o, "-c", "x", "--help"), MR_EINVAL); /* in order */
  assert_non_null(strstr(mr__options_usage, "Usage: mapreduce [OPTIONS] [INPUT]\n"));
  assert_non_null(strstr(mr__options_usage, "255 a usage or fatal error.\n"));
}

static void test_usage_errors(void **st) {
  (void)st;
  REFUSED("--exec needs a command", "-e", "");
  REFUSED("-o needs a file name", "-o", "");
  REFUSED("--joblog needs a file name", "--joblog", "");
  REFUSED("--chunksize wants a whole number from 1 to 16777216, not '0'", "-c", "0");
  REFUSED("--chunksize wants a whole number from 1 to 16777216, not '16777217'", "-c",
          "16777217");
  REFUSED("--chunksize wants a whole number from 1 to 16777216, not '-1'", "--chunksize=-1");
  REFUSED("--threads wants a whole number from 1 to 1024, not '1025'", "-t", "1025");
  REFUSED("--threads wants a whole number from 1 to 1024, not '2x'", "-t", "2x");
  REFUSED("--threads wants a whole number from 1 to 1024, not ''", "--threads=");
  REFUSED("--halt wants never, soon,fail=N, now,fail=N or a percentage like "
          "now,fail=10%, not 'later'",
          "--halt", "later");
  REFUSED("--timeout wants seconds (2.5) or a percentage of the median item time "
          "(200%), not '0'",
          "--timeout", "0");
  REFUSED("--timeout wants seconds (2.5) or a percentage of the median item time "
          "(200%), not '1s'",
          "--timeout", "1s");
  REFUSED("--timeout wants seconds (2.5) or a percentage of the median item time "
          "(200%), not '5%%'",
          "--timeout", "5%%");
  REFUSED("--retries wants a whole number from 0 to 1000, not '1001'", "--retries", "1001");
  REFUSED("--max-line wants a number of bytes from 16 to 1073741824, not '15'",
          "--max-line", "15");
  REFUSED("--master-compute wants yes, no or auto, not 'maybe'", "--master-compute",
          "maybe");
  REFUSED("option '-j' needs a value", "-j");
  REFUSED("option '--output' needs a value", "--output");
  REFUSED("unknown option '-x'", "-x");
  REFUSED("unknown option '--bogus'", "--bogus");
  REFUSED("one INPUT at most (got 'a' and 'b')", "a", "b");
  REFUSED("--job and --exec/--shell exclude each other", "-j", "prime", "-e", "echo {}");
  REFUSED("--job and --exec/--shell exclude each other", "--shell", "-j", "prime");
  REFUSED("--arg is for jobs (-j); a command takes its parameters in its template",
          "-e", "echo {}", "-a", "1");
}

static void test_what_the_farm_and_the_files_get(void **st) {
  (void)st;
  mr__opts o;
  static volatile sig_atomic_t stop;
  mr__farm_cfg f;
  OK(&o, "-c", "8", "-t", "3", "-u", "--master-compute", "no",
         "--retries", "4", "--timeout", "150%", "--halt", "now,fail=2");
  mr__options_farm_cfg(&o, &stop, &f);
  assert_int_equal(f.chunksize, 8);
  assert_int_equal(f.threads, 3);
  assert_int_equal(f.unordered, 1);
  assert_int_equal(f.master_compute, 0);
  assert_int_equal(f.retries, 4);
  assert_true(f.timeout_pct == 150 && f.timeout_s == 0);
  assert_int_equal(f.work_flags, MR__WORK_TIMES | MR__WORK_STOP_AT_FAIL);
  assert_int_equal(f.halt_now_fail_n, 2);
  assert_ptr_equal(f.stop, &stop);
  OK(&o, "--joblog", "l", "--halt", "soon,fail=1");
  mr__options_farm_cfg(&o, &stop, &f);
  assert_int_equal(f.work_flags, MR__WORK_TIMES); /* the joblog's times */
  OK(&o, "--timeout", "2");
  mr__options_farm_cfg(&o, &stop, &f);
  assert_int_equal(f.work_flags, 0);
  assert_true(f.timeout_s == 2);

  mr__session_cfg s;
  OK(&o, "-e", "echo {}", "--raw", "-o", "out", "--joblog", "l",
         "--resume-failed", "-u", "--max-line", "99", "in");
  mr__options_session_cfg(&o, NULL, NULL, &stop, &s);
  assert_string_equal(s.input, "in");
  assert_string_equal(s.output, "out");
  assert_string_equal(s.joblog, "l");
  assert_string_equal(s.exec_text, "echo {}");
  assert_int_equal(s.max_line, 99);
  assert_int_equal(s.resume, 2);
  assert_int_equal(s.unordered, 1);
  assert_int_equal(s.raw, 1);
  assert_null(s.arg);
  assert_ptr_equal(s.stop, &stop);
}

static void test_deadline(void **st) {
  (void)st;
  mr__opts o;
  OK(&o, "in");
  assert_null(o.deadline_text);
  OK(&o, "--deadline", "auto-1m", "in");
  assert_string_equal(o.deadline_text, "auto-1m");
  assert_int_equal(o.deadline.is_auto, 1);
  assert_true(o.deadline.margin == 60);
  OK(&o, "--deadline", "90s", "in");
  assert_int_equal(o.deadline.is_auto, 0);
  assert_true(o.deadline.at > 0);
  REFUSED("--deadline wants a time (HH:MM[:SS] today, YYYY-MM-DDTHH:MM[:SS], @SECONDS "
          "since the epoch), a duration (90s, 55m, 1h30m) or auto[-MARGIN], not '90'",
          "--deadline", "90", "in");
}

static void test_seeing_the_run(void **st) {
  (void)st;
  mr__opts o;
  OK(&o, "--stats", "in.txt");
  assert_int_equal(o.stats, 1);
  assert_string_equal(o.input, "in.txt");
  OK(&o, "--stats=line");
  assert_int_equal(o.stats, 2);
  /* --stats=json FILE: the next word is FILE, not the input */
  OK(&o, "--stats=json", "st.json", "in.txt");
  assert_string_equal(o.stats_json, "st.json");
  assert_string_equal(o.input, "in.txt");
  assert_int_equal(o.stats, 0);
  OK(&o, "--stats-json", "s.json", "--status", "s.txt", "--trace", "t.json", "--timeline",
     "t.svg", "--bar");
  assert_string_equal(o.stats_json, "s.json");
  assert_string_equal(o.status, "s.txt");
  assert_string_equal(o.trace, "t.json");
  assert_string_equal(o.timeline, "t.svg");
  assert_int_equal(o.progress, 1);
  assert_true(o.progress_every == 0);
  mr__session_cfg sc; /* each report file is a role the session checks */
  mr__options_session_cfg(&o, NULL, NULL, NULL, &sc);
  assert_string_equal(sc.report[0], "s.txt");
  assert_string_equal(sc.report_opt[0], "--status");
  assert_string_equal(sc.report[3], "s.json");
  assert_string_equal(sc.report_opt[3], "--stats-json");
  OK(&o, "--progress=2.5");
  assert_int_equal(o.progress, 1);
  assert_true(o.progress_every == 2.5);
  REFUSED("--stats=json needs a FILE (--stats=json FILE)", "--stats=json");
  REFUSED("--stats wants nothing, =line or =json FILE, not 'xml'", "--stats=xml");
  REFUSED("--progress wants seconds between lines in a log, from 0.1 to 86400, not '0'",
          "--progress=0");
  REFUSED("--status needs a file name", "--status", "");
  REFUSED("--timeline needs a file name", "--timeline", "");
}

static void test_worker(void **st) {
  (void)st;
  mr__opts o;
  OK(&o, "-w", "python3 w.py", "in.txt");
  assert_string_equal(o.worker, "python3 w.py");
  assert_null(o.exec);
  OK(&o, "--worker", "cat", "--timeout", "2", "--raw");
  assert_int_equal(o.isolate, 0); /* a worker is its own process already */
  assert_true(o.timeout_s == 2);
  REFUSED("--worker needs a command", "--worker", " ");
  REFUSED("--worker and --exec exclude each other", "-w", "cat", "-e", "echo");
  REFUSED("--worker and --shell exclude each other", "-w", "cat", "--shell");
  REFUSED("--worker and --job exclude each other", "-w", "cat", "-j", "square");
  REFUSED("--worker and --arg exclude each other", "-w", "cat", "-a", "1");
  REFUSED("--worker and --isolate exclude each other", "-w", "cat", "--isolate");
  REFUSED("--worker and -r exclude each other", "-w", "cat", "-r", "sum");
  REFUSED("--worker and --keyed exclude each other", "-w", "cat", "--keyed");
  assert_non_null(strstr(mr__options_usage, "-w, --worker 'CMD ARGS'"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_deadline),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_worker),
      cmocka_unit_test(test_every_option),
      cmocka_unit_test(test_halt_now_and_percentages),
      cmocka_unit_test(test_resume_and_resume_failed),
      cmocka_unit_test(test_timeout_implies_isolate_for_jobs),
      cmocka_unit_test(test_done_actions),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_what_the_farm_and_the_files_get),
      cmocka_unit_test(test_seeing_the_run),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  mr_buf_free(&why);
  return rc;
}
