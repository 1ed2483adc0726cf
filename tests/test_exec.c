/* test_exec.c: a command per item. Replacement strings, direct exec versus
 * the shell, and item text that must never become shell syntax. */
#include "tu.h"

#include "exec.h"
#include "job.h"

static mr__exec *compile(const char *tpl) {
  mr__exec *x = NULL;
  mr_buf why = {0};
  assert_int_equal(exec_compile(tpl, &x, &why), 0);
  mr_buf_free(&why);
  return x;
}

/* Runs tpl on item; returns the status, output in *out. */
static int run(const char *tpl, const char *item, double timeout, mr_buf *out,
               int *exitval, int *sig) {
  mr__exec *x = compile(tpl);
  out->len = 0;
  if (mr_buf_reserve(out, 1)) fail();
  int rc = exec_run(x, item, strlen(item), 7, timeout, out, exitval, sig);
  out->data[out->len] = '\0';
  exec_free(x);
  return rc;
}

static void test_direct_or_shell(void **st) {
  (void)st;
  const char *direct[] = {"echo {}", "gzip -9 {}", "wc -l", "/bin/echo {.} {/} {//}"};
  for (size_t i = 0; i < sizeof direct / sizeof *direct; i++) {
    mr__exec *x = compile(direct[i]);
    assert_int_equal(exec_uses_shell(x), 0);
    exec_free(x);
  }
  const char *shell[] = {"echo {} | tr a b", "wc -l < {}", "echo $HOME {}",
                         "a {}; b", "echo '{}'", "f() { echo; }; f {}"};
  for (size_t i = 0; i < sizeof shell / sizeof *shell; i++) {
    mr__exec *x = compile(shell[i]);
    assert_int_equal(exec_uses_shell(x), 1);
    exec_free(x);
  }
}

static void test_replacement_strings(void **st) {
  (void)st;
  mr__exec *x = compile("printf %s,%s,%s,%s,%s,%s {} {.} {/} {//} {/.} {#}");
  assert_int_equal(exec_uses_shell(x), 0);
  char **argv = NULL;
  mr_buf store = {0};
  const char *item = "dir/sub/file.tar.gz";
  assert_int_equal(exec_expand(x, item, strlen(item), 41, &argv, &store), 0);
  assert_string_equal(argv[0], "printf");
  assert_string_equal(argv[2], "dir/sub/file.tar.gz");
  assert_string_equal(argv[3], "dir/sub/file.tar");
  assert_string_equal(argv[4], "file.tar.gz");
  assert_string_equal(argv[5], "dir/sub");
  assert_string_equal(argv[6], "file.tar");
  assert_string_equal(argv[7], "42"); /* 1-based */
  assert_null(argv[8]);
  free(argv);
  mr_buf_free(&store);
  exec_free(x);
  /* no replacement string: " {}" is appended, as in GNU parallel */
  mr_buf out = {0};
  int ev, sig;
  assert_int_equal(run("echo", "a b", 0, &out, &ev, &sig), 0);
  assert_string_equal(out.data, "a b\n");
  mr_buf_free(&out);
}

static void test_hostile_items_stay_data(void **st) {
  (void)st;
  char marker[128];
  tu_path(marker, sizeof marker, "pwned");
  char items[6][256];
  snprintf(items[0], 256, "; touch %s", marker);
  snprintf(items[1], 256, "$(touch %s)", marker);
  snprintf(items[2], 256, "`touch %s`", marker);
  snprintf(items[3], 256, "' ; touch %s ; '", marker);
  snprintf(items[4], 256, "\" ; touch %s ; \"", marker);
  snprintf(items[5], 256, "a\\nb && touch %s", marker);
  /* every template style: direct, shell, inside quotes of both kinds */
  /* (printf, not echo: dash's echo reads backslashes itself) */
  const char *tpls[] = {"printf %s\\n {}", "printf '%s\\n' {} | cat",
                        "printf '%s\\n' \"{}\" | cat", "printf '%s\\n' '{}' | cat",
                        "x={}; printf '%s\\n' \"$x\""};
  mr_buf out = {0};
  for (size_t t = 0; t < sizeof tpls / sizeof *tpls; t++) {
    for (int i = 0; i < 6; i++) {
      int ev = 0, sig = 0;
      assert_int_equal(run(tpls[t], items[i], 0, &out, &ev, &sig), 0);
      /* the command saw exactly the item's characters */
      assert_int_equal(out.len, strlen(items[i]) + 1);
      assert_memory_equal(out.data, items[i], strlen(items[i]));
      assert_false(tu_exists(marker));
    }
  }
  mr_buf_free(&out);
}

static void test_failures_are_reported(void **st) {
  (void)st;
  mr_buf out = {0};
  int ev = 0, sig = 0;
  assert_int_equal(run("sh -c 'exit 3' {}", "x", 0, &out, &ev, &sig), MR_EEXIT);
  assert_int_equal(ev, 3);
  assert_non_null(strstr(out.data, "status 3"));
  ev = sig = 0;
  assert_int_equal(run("exec sh -c 'kill -SEGV $$' {}", "x", 0, &out, &ev, &sig),
                   MR_ESIGNAL);
  assert_int_equal(sig, 11);
  /* a program that is not there is found out before any item runs */
  mr__exec *x = NULL;
  mr_buf why = {0};
  assert_true(exec_compile("/no/such/program {}", &x, &why) < 0);
  assert_null(x);
  assert_non_null(strstr(why.data, "/no/such/program"));
  mr_buf_free(&why);
  ev = sig = 0;
  assert_int_equal(run("/no/such/program {} | cat", "x", 0, &out, &ev, &sig), 0);
  ev = sig = 0;
  assert_int_equal(run("sleep {}", "5", 0.2, &out, &ev, &sig), MR_ETIMEDOUT);
  assert_non_null(strstr(out.data, "timed out after 0.2 s"));
  assert_null(strchr(out.data, '\n'));
  mr_buf_free(&out);
}

/* A stop kills the running command within its 0.2 s of grace: one
 * writing nothing, and one that closed its output and goes on. */
static void test_a_stop_kills_the_command(void **st) {
  (void)st;
  job_watch_stop(&tu_stop);
  const char *cmds[] = {"sleep {}", "sh -c 'exec >&-; sleep {}'"};
  for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
    mr_buf out = {0};
    int ev = 0, sig = 0;
    pthread_t t = tu_stop_later();
    assert_int_equal(run(cmds[i], "100", 0, &out, &ev, &sig), MR_EINTR);
    assert_string_equal(out.data, "stopped by a signal");
    pthread_join(t, NULL);
    mr_buf_free(&out);
  }
  job_watch_stop(NULL);
  /* with its output closed, it is still under the time limit */
  mr_buf out = {0};
  int ev = 0, sig = 0;
  assert_int_equal(run("sh -c 'exec >&-; sleep {}'", "100", 0.2, &out, &ev, &sig),
                   MR_ETIMEDOUT);
  mr_buf_free(&out);
}

static void test_describe_for_the_joblog(void **st) {
  (void)st;
  mr__exec *x = compile("echo {} | cat");
  mr_buf d = {0};
  exec_describe(x, "it's", 4, 0, &d);
  assert_non_null(strstr(d.data, "echo "));
  assert_non_null(strstr(d.data, "| cat"));
  assert_null(strstr(d.data, "{}"));
  exec_free(x);
  mr_buf_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_direct_or_shell),
      cmocka_unit_test(test_replacement_strings),
      cmocka_unit_test(test_hostile_items_stay_data),
      cmocka_unit_test(test_failures_are_reported),
      cmocka_unit_test(test_a_stop_kills_the_command),
      cmocka_unit_test(test_describe_for_the_joblog),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
