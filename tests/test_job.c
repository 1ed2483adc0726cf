/* test_job.c: finding a job, and loading plugins: the shipped example, and
 * the ways a plugin can be wrong (not a shared object, no entry symbol,
 * another ABI version, no run function), each refused with one line. */
#include "tu.h"

#include "run/job.h"

/* Builds src into tu_dir/name with cc; returns the path (static). */
static const char *build_so(const char *name, const char *src) {
  static char so[160];
  char c[128], cmd[512];
  tu_path(c, sizeof c, "p.c");
  tu_write(c, src, strlen(src));
  tu_path(so, sizeof so, name);
  snprintf(cmd, sizeof cmd, "cc -shared -fPIC -I%s/include -o %s %s", MR_ROOT, so, c);
  assert_int_equal(system(cmd), 0);
  return so;
}

static int load(const char *spec, mr_buf *why, void **handle) {
  const mr_job *j = NULL;
  why->len = 0;
  int rc = mr__job_load(spec, &j, handle, why);
  if (rc == 0) assert_non_null(j);
  else assert_null(*handle);
  return rc;
}

static void test_builtins_by_name(void **st) {
  (void)st;
  const mr_job *j = NULL;
  void *h = (void *)1;
  mr_buf why = {0};
  assert_int_equal(mr__job_load("square", &j, &h, &why), 0);
  assert_string_equal(j->name, "square");
  assert_null(h);
  assert_int_equal(mr__job_load("squares", &j, &h, &why), MR_ENOENT);
  assert_non_null(strstr(why.data, "unknown job 'squares'"));
  mr_buf_free(&why);
}

static void test_example_plugin_runs(void **st) {
  (void)st;
  const mr_job *j = NULL;
  void *h = NULL;
  mr_buf why = {0}, out = {0};
  assert_int_equal(mr__job_load(MR_ROOT "/jobs/libcollatz.so", &j, &h, &why), 0);
  assert_non_null(h);
  assert_string_equal(j->name, "collatz");
  assert_int_equal(j->run(NULL, "27", 2, &out), 0);
  assert_string_equal(out.data, "111"); /* 27 takes 111 steps */
  out.len = 0;
  assert_int_equal(j->run(NULL, "0", 1, &out), MR_EINVAL);
  mr__job_unload(h);
  mr_buf_free(&why);
  mr_buf_free(&out);
}

static void test_bad_plugins_are_refused(void **st) {
  (void)st;
  mr_buf why = {0};
  void *h = NULL;
  char notso[128];
  tu_path(notso, sizeof notso, "text.so");
  tu_write(notso, "not an ELF file\n", 16);
  assert_int_equal(load(notso, &why, &h), MR_ENOENT);
  assert_non_null(strstr(why.data, "cannot load plugin"));
  assert_int_equal(load("/no/such/plugin.so", &why, &h), MR_ENOENT);

  const char *nosym = build_so("nosym.so", "int something(void) { return 1; }\n");
  assert_int_equal(load(nosym, &why, &h), MR_ENOENT);
  assert_non_null(strstr(why.data, "no mr_plugin_job()"));

  const char *abi = build_so("abi.so",
      "#include \"mapreduce.h\"\n"
      "static int run(void *s, const char *i, size_t n, mr_buf *o) {\n"
      "  (void)s; (void)i; (void)n; (void)o; return 0; }\n"
      "static const mr_job j = {MR_ABI_VERSION + 1, \"old\", \"\", 0, run, 0};\n"
      "MR_PLUGIN(j)\n");
  assert_int_equal(load(abi, &why, &h), MR_EABI);
  assert_non_null(strstr(why.data, "built for plugin ABI"));

  const char *norun = build_so("norun.so",
      "#include \"mapreduce.h\"\n"
      "static const mr_job j = {MR_ABI_VERSION, \"norun\", \"\", 0, 0, 0};\n"
      "MR_PLUGIN(j)\n");
  assert_int_equal(load(norun, &why, &h), MR_EINVAL);
  assert_non_null(strstr(why.data, "no run function"));
  for (const char *p = why.data; *p; p++) assert_int_not_equal(*p, '\n');
  mr_buf_free(&why);
}

/* A bad --arg is a usage error naming what the job wants, found before the
 * run starts; a job that takes none refuses one (issue 15, item 17). */
static void test_arg_checked_at_start(void **st) {
  (void)st;
  mr_buf why = {0};
  assert_int_equal(mr__job_check_arg(mr__job_builtin("prime"), 0, "3", &why), MR_EINVAL);
  assert_string_equal(why.data, "-j prime takes no --arg (got '3')");
  why.len = 0;
  assert_int_equal(mr__job_check_arg(mr__job_builtin("calc"), 0, "abc", &why), MR_EINVAL);
  assert_non_null(strstr(why.data, "-j calc: --arg wants seconds per sleep unit"));
  assert_non_null(strstr(why.data, "not 'abc'"));
  why.len = 0;
  assert_int_equal(mr__job_check_arg(mr__job_builtin("calc"), 0, "1e8", &why), MR_EINVAL);
  assert_int_equal(mr__job_check_arg(mr__job_builtin("calc"), 0, "0.5", &why), 0);
  const mr_job *j = NULL;
  void *h = NULL;
  assert_int_equal(mr__job_load(MR_ROOT "/jobs/libcollatz.so", &j, &h, &why), 0);
  why.len = 0;
  assert_int_equal(mr__job_check_arg(j, 1, "3", &why), MR_EINVAL);
  assert_string_equal(why.data, "-j collatz takes no --arg (got '3')");
  mr__job_unload(h);
  const char *so = build_so("libpicky.so",
      "#include <string.h>\n#include \"mapreduce.h\"\n"
      "static int in(void **s, const char *a) { *s = 0; return a && strcmp(a, \"ok\") ? MR_EINVAL : 0; }\n"
      "static int run(void *s, const char *i, size_t n, mr_buf *o) { (void)s; return mr_buf_append(o, i, n); }\n"
      "static const mr_job job = {MR_ABI_VERSION, \"picky\", \"\", in, run, NULL};\n"
      "MR_PLUGIN(job)\n");
  assert_int_equal(mr__job_load(so, &j, &h, &why), 0);
  assert_int_equal(mr__job_check_arg(j, 1, "ok", &why), 0);
  why.len = 0;
  assert_int_equal(mr__job_check_arg(j, 1, "no", &why), MR_EINVAL);
  assert_string_equal(why.data, "-j picky refused --arg 'no'");
  mr__job_unload(h);
  mr_buf_free(&why);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_builtins_by_name),
      cmocka_unit_test(test_arg_checked_at_start),
      cmocka_unit_test(test_example_plugin_runs),
      cmocka_unit_test(test_bad_plugins_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
