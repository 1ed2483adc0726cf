/* test_exec.c: a command per item. Replacement strings, direct exec versus
 * the shell, and item text that must never become shell syntax. */
#include "tu.h"

#include "run/exec.h"
#include "run/job.h"

static mr__exec *compile(const char *tpl) {
  mr__exec *x = NULL;
  mr_buf why = {0};
  assert_int_equal(mr__exec_compile(tpl, &x, &why), 0);
  mr_buf_free(&why);
  return x;
}

/* Runs tpl on item; returns the status, output in *out. */
static int run(const char *tpl, const char *item, double timeout, mr_buf *out,
               int *exitval, int *sig) {
  mr__exec *x = compile(tpl);
  out->len = 0;
  if (mr_buf_reserve(out, 1)) fail();
  int rc = mr__exec_run(x, item, strlen(item), 7, timeout, out, exitval, sig);
  out->data[out->len] = '\0';
  mr__exec_free(x);
  return rc;
}

static void test_direct_or_shell(void **st) {
  (void)st;
  const char *direct[] = {"echo {}", "gzip -9 {}", "wc -l", "/bin/echo {.} {/} {//}"};
  for (size_t i = 0; i < sizeof direct / sizeof *direct; i++) {
    mr__exec *x = compile(direct[i]);
    assert_int_equal(mr__exec_uses_shell(x), 0);
    mr__exec_free(x);
  }
  const char *shell[] = {"echo {} | tr a b", "wc -l < {}", "echo $HOME {}",
                         "a {}; b", "echo '{}'", "f() { echo; }; f {}"};
  for (size_t i = 0; i < sizeof shell / sizeof *shell; i++) {
    mr__exec *x = compile(shell[i]);
    assert_int_equal(mr__exec_uses_shell(x), 1);
    mr__exec_free(x);
  }
}

static void test_replacement_strings(void **st) {
  (void)st;
  mr__exec *x = compile("printf %s,%s,%s,%s,%s,%s {} {.} {/} {//} {/.} {#}");
  assert_int_equal(mr__exec_uses_shell(x), 0);
  char **argv = NULL;
  mr_buf store = {0};
  const char *item = "dir/sub/file.tar.gz";
  assert_int_equal(mr__exec_expand(x, item, strlen(item), 41, &argv, &store), 0);
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
  mr__exec_free(x);
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
  assert_true(mr__exec_compile("/no/such/program {}", &x, &why) < 0);
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
  mr__job_watch_stop(&tu_stop);
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
  mr__job_watch_stop(NULL);
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
  mr__exec_describe(x, "it's", 4, 0, &d);
  assert_non_null(strstr(d.data, "echo "));
  assert_non_null(strstr(d.data, "| cat"));
  assert_null(strstr(d.data, "{}"));
  mr__exec_free(x);
  mr_buf_free(&d);
}

/* Whatever shell context a replacement string stands in, the command gets
 * the item's characters: never split, never globbed (issue 15, item 11). */
static void test_every_shell_context_quoted(void **st) {
  (void)st;
  const char *tpls[] = {
      "printf '%s\\n' \"`printf %s {}`\"",        /* backticks in "..." */
      "printf '%s\\n' \"`printf %s '{}'`\"",      /* '...' in those */
      "printf '%s\\n' \"$(printf %s {})\"",       /* $( ) in "..." */
      "printf '%s\\n' \"$(printf %s \"$(printf %s {})\")\"",
      "printf '%s\\n' \"$(case a in a) printf %s {};; esac)\"",
      "x=$(printf %s {}); printf '%s\\n' \"$x\"",
      "printf '%s\\n' \"${x:-{}}\"", "printf '%s\\n' ${x:-{}}",
      "cat <<EOF\n{}\nEOF",                        /* a here-document body */
      "cat <<-EOF\n\t{}\n\tEOF\n",
      "cat <<E | cat\n{}\nE",
      ": # it's a comment\nprintf '%s\\n' {}",
      "printf '%s\\n' '{1}'", "printf '%s\\n' \"{-1}\""};
  const char *items[] = {"* ?", "a  b", "$(echo x)", "'\""};
  mr_buf out = {0};
  for (size_t t = 0; t < sizeof tpls / sizeof *tpls; t++) {
    for (size_t i = 0; i < sizeof items / sizeof *items; i++) {
      int ev = 0, sig = 0;
      assert_int_equal(run(tpls[t], items[i], 0, &out, &ev, &sig), 0);
      size_t n = strlen(items[i]);
      if (out.len != n + 1 || memcmp(out.data, items[i], n))
        fail_msg("template %s, item %s: got %s", tpls[t], items[i], out.data);
    }
  }
  mr_buf_free(&out);
}

/* Where no quoting is safe, the template is refused before any item. */
static void test_unquotable_contexts_refused(void **st) {
  (void)st;
  const char *tpls[] = {"echo \\{}", "echo \"\\{}\"", "cat <<'E'\n{}\nE",
                        "cat <<\"E\"\n{}\nE", "cat <<{}\nx\n{}",
                        "echo `echo \\`echo {}\\``", "echo {2}", "echo {0}"};
  for (size_t t = 0; t < sizeof tpls / sizeof *tpls; t++) {
    mr__exec *x = NULL;
    mr_buf why = {0};
    if (mr__exec_compile(tpls[t], &x, &why) != MR_EINVAL) fail_msg("accepted: %s", tpls[t]);
    assert_null(x);
    assert_non_null(why.data);
    assert_non_null(strstr(why.data, "--exec: "));
    mr_buf_free(&why);
  }
}

/* Without a replacement string, " {}" is appended, shell or not; {1} is
 * the item as in GNU parallel with one input source (item 15). */
static void test_appended_and_positional(void **st) {
  (void)st;
  mr_buf out = {0};
  int ev = 0, sig = 0;
  assert_int_equal(run("printf '%s|%s\\n' 'size of'", "es1.fq", 0, &out, &ev, &sig), 0);
  assert_string_equal(out.data, "size of|es1.fq\n");
  assert_int_equal(run("printf %s,%s,%s, {1} {1/} {1.}", "d/a b.c", 0, &out, &ev, &sig), 0);
  assert_string_equal(out.data, "d/a b.c,a b.c,d/a b,");
  assert_int_equal(run("printf '%s|%s\\n' {1//} {-1/.}", "d/a b.c", 0, &out, &ev, &sig), 0);
  assert_string_equal(out.data, "d|a b\n");
  mr_buf_free(&out);
}

/* An item the kernel will not take as an argument (E2BIG) says so, not
 * "command not found" (issue 15, item 17). */
static void test_item_too_long_for_exec(void **st) {
  (void)st;
  size_t n = 140000; /* over Linux's 128 KiB per argument */
  char *item = malloc(n + 1);
  assert_non_null(item);
  memset(item, 'x', n);
  item[n] = '\0';
  const char *tpls[] = {"echo {}", "echo {} | cat"};
  mr_buf out = {0};
  for (size_t t = 0; t < sizeof tpls / sizeof *tpls; t++) {
    int ev = 0, sig = 0;
    assert_int_equal(run(tpls[t], item, 0, &out, &ev, &sig), MR_EEXIT);
    assert_int_equal(ev, 127);
    assert_non_null(strstr(out.data, "item too long for a command line (140000 bytes"));
  }
  free(item);
  mr_buf_free(&out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_direct_or_shell),
      cmocka_unit_test(test_replacement_strings),
      cmocka_unit_test(test_hostile_items_stay_data),
      cmocka_unit_test(test_failures_are_reported),
      cmocka_unit_test(test_a_stop_kills_the_command),
      cmocka_unit_test(test_describe_for_the_joblog),
      cmocka_unit_test(test_every_shell_context_quoted),
      cmocka_unit_test(test_unquotable_contexts_refused),
      cmocka_unit_test(test_appended_and_positional),
      cmocka_unit_test(test_item_too_long_for_exec),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
