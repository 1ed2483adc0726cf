/* test_deadline.c: --deadline WHEN: every form it takes, the refusals, a
 * deadline already past, auto from the environment and from squeue, and
 * the timer that stops the run at the cut. */
#include "tu.h"

#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/idle.h"
#include "cli/deadline.h"
#include "cli/signals.h"

static mr_buf why;
/* 2026-12-06 08:00:00 UTC (the tests run with TZ=UTC) */
#define NOW 1796544000.0

static int parse(const char *when, mr__deadline *d) {
  mr_buf_free(&why);
  return mr__deadline_parse(when, NOW, d, &why);
}

static void at_is(const char *when, double want) {
  mr__deadline d;
  if (parse(when, &d)) fail_msg("'%s' refused: %s", when, why.data);
  assert_int_equal(d.is_auto, 0);
  if (d.at != want) fail_msg("'%s': %.3f, want %.3f", when, d.at, want);
}

static void refused(const char *when) {
  mr__deadline d;
  if (parse(when, &d) != MR_EINVAL) fail_msg("'%s' taken", when);
  assert_non_null(strstr(why.data, "--deadline wants a time"));
  assert_non_null(strstr(why.data, when));
}

static void test_durations(void **st) {
  (void)st;
  at_is("90s", NOW + 90);
  at_is("55m", NOW + 55 * 60);
  at_is("2h", NOW + 7200);
  at_is("1h30m", NOW + 5400);
  at_is("1h30m10s", NOW + 5410);
  at_is("1d", NOW + 86400);
  at_is("2.5h", NOW + 9000);
  at_is("0.5s", NOW + 0.5);
  at_is("0s", NOW); /* parsed; the resolve refuses it */
}

static void test_clock_times(void **st) {
  (void)st;
  at_is("09:30", NOW + 5400);
  at_is("09:30:15", NOW + 5415);
  at_is("07:00", NOW - 3600); /* today's: past, refused by the resolve */
  at_is("2026-12-07T00:00", NOW + 16 * 3600);
  at_is("2026-12-06T08:00:30", NOW + 30);
  at_is("2026-12-06 08:01", NOW + 60);
  at_is("@1796547600", NOW + 3600);
  at_is("@1796547600.5", NOW + 3600.5);
}

static void test_auto(void **st) {
  (void)st;
  mr__deadline d;
  assert_int_equal(parse("auto", &d), 0);
  assert_int_equal(d.is_auto, 1);
  assert_true(d.margin == MR__DEADLINE_AUTO_MARGIN_S);
  assert_int_equal(parse("auto-2m", &d), 0);
  assert_int_equal(d.is_auto, 1);
  assert_true(d.margin == 120);
  assert_int_equal(parse("auto-0s", &d), 0);
  assert_true(d.margin == 0);
}

static void test_refused(void **st) {
  (void)st;
  const char *bad[] = {"", "90", "1.5", "h", "5x", "1h30", "-5m", "m5", "25:00",
                       "9:30", "09:61", "09:30:", "2026-02-30T10:00", "2026-13-01T10:00",
                       "2026-12-06", "2026-12-06X08:00", "@", "@12x", "@-5",
                       "auto-", "auto-5", "autox", "tomorrow", "1h 30m", "nan s"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) refused(bad[i]);
}

static double resolve(const char *when, double now, int *rc) {
  mr__deadline d;
  assert_int_equal(mr__deadline_parse(when, NOW, &d, &why), 0);
  mr_buf_free(&why);
  double at = 0;
  *rc = mr__deadline_resolve(&d, when, now, &at, &why);
  return at;
}

static void test_past_refused(void **st) {
  (void)st;
  int rc;
  assert_true(resolve("90s", NOW, &rc) == NOW + 90);
  assert_int_equal(rc, 0);
  resolve("07:00", NOW, &rc);
  assert_int_equal(rc, MR_EINVAL);
  assert_string_equal(why.data, "--deadline 07:00 is past: it was 2026-12-06 07:00:00, "
                                "it is now 2026-12-06 08:00:00; nothing would run");
  resolve("0s", NOW, &rc);
  assert_int_equal(rc, MR_EINVAL);
  resolve("10s", NOW + 11, &rc); /* the run started late: 10 s from the parse */
  assert_int_equal(rc, MR_EINVAL);
}

/* A clean environment for auto: none of the variables it reads. */
static void no_batch_env(void) {
  unsetenv("MAPREDUCE_END_TIME");
  unsetenv("SLURM_JOB_END_TIME");
  unsetenv("SLURM_JOB_ID");
  unsetenv("PBS_JOBID");
}

static void test_auto_from_the_environment(void **st) {
  (void)st;
  no_batch_env();
  int rc;
  resolve("auto", NOW, &rc);
  assert_int_equal(rc, MR_EINVAL);
  assert_non_null(strstr(why.data, "not in a batch job"));
  setenv("PBS_JOBID", "12.server", 1);
  resolve("auto", NOW, &rc);
  assert_int_equal(rc, MR_EINVAL);
  assert_non_null(strstr(why.data, "set MAPREDUCE_END_TIME"));
  setenv("MAPREDUCE_END_TIME", "1796547600", 1); /* 09:00 */
  assert_true(resolve("auto", NOW, &rc) == NOW + 3600 - MR__DEADLINE_AUTO_MARGIN_S);
  assert_int_equal(rc, 0);
  assert_true(resolve("auto-10m", NOW, &rc) == NOW + 3000);
  assert_int_equal(rc, 0);
  resolve("auto-2h", NOW, &rc); /* the margin is longer than what is left */
  assert_int_equal(rc, MR_EINVAL);
  assert_non_null(strstr(why.data, "the job ends at 2026-12-06 09:00:00, 3600 s from now"));
  setenv("MAPREDUCE_END_TIME", "soon", 1);
  resolve("auto", NOW, &rc);
  assert_int_equal(rc, MR_EINVAL);
  assert_non_null(strstr(why.data, "MAPREDUCE_END_TIME='soon' is not seconds"));
  no_batch_env();
  setenv("SLURM_JOB_END_TIME", "1796547600", 1); /* Slurm 23.02 on */
  assert_true(resolve("auto-0s", NOW, &rc) == NOW + 3600);
  no_batch_env();
}

/* A fake squeue first in PATH that prints `out` and exits with `status`,
 * and records its arguments and SLURM_TIME_FORMAT. */
static char old_path[4096];
static void fake_squeue(const char *out, int status) {
  char dir[256], script[512], body[1024];
  tu_path(dir, sizeof dir, "bin");
  mkdir(dir, 0700);
  snprintf(script, sizeof script, "%s/squeue", dir);
  snprintf(body, sizeof body,
           "#!/bin/sh\necho \"$SLURM_TIME_FORMAT $*\" > %s/args\nprintf '%s'\nexit %d\n",
           tu_tmpdir(), out, status);
  tu_write(script, body, strlen(body));
  chmod(script, 0700);
  if (!old_path[0]) snprintf(old_path, sizeof old_path, "%s", getenv("PATH"));
  char path[4600];
  snprintf(path, sizeof path, "%s:%s", dir, old_path);
  setenv("PATH", path, 1);
}

static void test_auto_from_squeue(void **st) {
  (void)st;
  no_batch_env();
  setenv("SLURM_JOB_ID", "4242", 1);
  fake_squeue("1796547600\\n", 0);
  int rc;
  assert_true(resolve("auto-1m", NOW, &rc) == NOW + 3540);
  assert_int_equal(rc, 0);
  char p[256];
  char *args = tu_read(tu_path(p, sizeof p, "args"), NULL);
  assert_non_null(args);
  assert_string_equal(args, "%s -h -j 4242 -o %e\n");
  free(args);
  fake_squeue("Unknown\\n", 0); /* a job without a time limit */
  double at = resolve("auto", NOW, &rc);
  assert_int_equal(rc, 0);
  assert_true(isinf(at));
  fake_squeue("slurm_load_jobs error: Invalid job id specified\\n", 1);
  resolve("auto", NOW, &rc);
  assert_int_equal(rc, MR_EIO);
  assert_string_equal(why.data, "--deadline auto: 'squeue -h -j 4242 -o %e' did not give "
                                "the job's end time (slurm_load_jobs error: Invalid job "
                                "id specified, status 1)");
  setenv("SLURM_JOB_ID", "42; rm -rf /", 1);
  resolve("auto", NOW, &rc);
  assert_int_equal(rc, MR_EINVAL);
  setenv("PATH", old_path, 1);
  no_batch_env();
}

/* In a child: the timer sets the stop flag to MR__STOP_TIME at the cut,
 * or not at all once cancelled. */
static void timer_child(int cancel) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    volatile sig_atomic_t *stop = mr__signals_stop_flag();
    uint64_t t0 = mr__now_ns();
    /* cancelled: well before the cut, even on a loaded machine (1 s: the
     * scheduler at load 15 can hold a process between two calls for a
     * good part of 300 ms) */
    uint64_t after = cancel ? 1000000000u : 50000000u;
    if (mr__signals_stop_at(t0 + after)) _exit(10);
    if (cancel) mr__signals_stop_at_cancel();
    /* watched past the cut when cancelled; else until the stop comes (a
     * loaded machine runs the timer's thread late: 10 s at most) */
    uint64_t watch = cancel ? after + 300000000u : 10000000000u;
    struct timespec nap = {0, 20000000};
    while (mr__now_ns() - t0 < watch && !*stop) nanosleep(&nap, NULL);
    alarm(0); /* the stop's last resort */
    if (cancel) _exit(*stop ? 12 : 0);
    if (*stop != MR__STOP_TIME || !mr__signals_stopped_for_time()) _exit(13);
    if (mr__now_ns() - t0 < after) _exit(14); /* too early */
    _exit(mr__signals_stop_status() == MR__EXIT_TIME ? 0 : 15);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_timer_stops_at_the_cut(void **st) {
  (void)st;
  timer_child(0);
}

static void test_timer_cancelled(void **st) {
  (void)st;
  timer_child(1);
}

int main(void) {
  setenv("TZ", "UTC", 1);
  tzset();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_clock_times),
      cmocka_unit_test(test_auto),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_past_refused),
      cmocka_unit_test(test_auto_from_the_environment),
      cmocka_unit_test(test_auto_from_squeue),
      cmocka_unit_test(test_timer_stops_at_the_cut),
      cmocka_unit_test(test_timer_cancelled),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  mr_buf_free(&why);
  return rc;
}
