/* test_joblog.c: --joblog in GNU parallel's format: the records, loading
 * them for a resume, a last line cut short, and the rollback. */
#include "tu.h"

#include "text/joblog.h"

#define HEADER "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"
#define LINE_A "1\t:\t0.000\t     0.100\t0\t3\t0\t0\techo a\n" /* item 0 */

/* The records of the joblog at path (caller frees); *n how many. */
static mr__jrec *load(const char *path, size_t *n) {
  mr__jrec *r = (mr__jrec *)1;
  mr_buf why = {0};
  assert_int_equal(mr__joblog_load(path, &r, n, &why), 0);
  mr_buf_free(&why);
  return r;
}

static void test_new_file_has_the_header_and_records(void **st) {
  (void)st;
  char p[256];
  tu_path(p, sizeof p, "new.log");
  mr__joblog *jl = NULL;
  assert_int_equal(mr__joblog_open(p, 0, &jl, NULL), 0);
  assert_int_equal(mr__joblog_add(jl, 0, ":", 1700000000.25, 0.5, 12, 0, 0, "echo a", 6), 0);
  assert_int_equal(mr__joblog_add(jl, 41, "node2", 1700000001, 12.3456, 0, 1, 9,
                                   "x\ny", 3), 0);
  assert_int_equal(mr__joblog_sync(jl, NULL), 0);
  mr__joblog_free(jl);
  char *got = tu_read(p, NULL);
  /* Seq is 1-based; JobRuntime right-aligned in 10 as parallel writes it;
   * Send 0; a newline in a command written as \n */
  assert_string_equal(got, HEADER
                      "1\t:\t1700000000.250\t     0.500\t0\t12\t0\t0\techo a\n"
                      "42\tnode2\t1700000001.000\t    12.346\t0\t0\t1\t9\tx\\ny\n");
  free(got);
}

static void test_lines_wait_for_sync(void **st) {
  (void)st;
  char p[256];
  tu_path(p, sizeof p, "sync.log");
  mr__joblog *jl = NULL;
  assert_int_equal(mr__joblog_open(p, 0, &jl, NULL), 0);
  assert_int_equal(mr__joblog_add(jl, 0, ":", 0, 0, 0, 0, 0, "c", 1), 0);
  char *got = tu_read(p, NULL);
  assert_string_equal(got, HEADER);
  free(got);
  mr__joblog_free(jl);
}

static void test_load_reads_records_not_the_header(void **st) {
  (void)st;
  char p[256];
  tu_path(p, sizeof p, "load.log");
  const char *text = HEADER
                     LINE_A
                     "not a record\n"
                     "3\thost\t0.000\t     0.100\t0\t0\t2\t0\techo c\n"
                     "2\t:\t0.000\t     0.100\t0\t0\t0\t15\techo b\n";
  tu_write(p, text, strlen(text));
  size_t n = 0;
  mr__jrec *r = load(p, &n);
  assert_int_equal(n, 3);
  assert_int_equal(r[0].seq, 0); /* 0-based, one item a record */
  assert_int_equal(r[0].end, 1);
  assert_int_equal(r[0].status, 0);
  assert_true(r[0].h_first == mr__doneset_hash("echo a", 6));
  assert_int_equal(r[1].seq, 2);
  assert_int_equal(r[1].status, MR_EJOB); /* Exitval 2 */
  assert_int_equal(r[2].seq, 1);
  assert_int_equal(r[2].status, MR_EJOB); /* Signal 15 */
  assert_int_equal(r[2].order, 2);        /* file order: later wins */
  free(r);
}

static void test_load_of_no_file_is_empty(void **st) {
  (void)st;
  char p[256];
  size_t n = 7;
  assert_null(load(tu_path(p, sizeof p, "none.log"), &n));
  assert_int_equal(n, 0);
}

static void test_load_ignores_a_cut_last_line(void **st) {
  (void)st;
  char p[256];
  tu_path(p, sizeof p, "cut.log");
  const char *text = HEADER LINE_A
                            "2\t:\t0.000\t     0.100\t0\t3\t0\t0\tec";
  tu_write(p, text, strlen(text));
  size_t n = 0;
  mr__jrec *r = load(p, &n);
  assert_int_equal(n, 1);
  assert_int_equal(r[0].seq, 0);
  free(r);
}

static void test_append_cuts_a_cut_last_line_and_keeps_the_header(void **st) {
  (void)st;
  char p[256];
  tu_path(p, sizeof p, "append.log");
  const char *text = HEADER LINE_A
                            "2\t:\t0.000\t  ";
  tu_write(p, text, strlen(text));
  mr__joblog *jl = NULL;
  assert_int_equal(mr__joblog_open(p, 1, &jl, NULL), 0);
  assert_int_equal(mr__joblog_add(jl, 1, ":", 0, 0.1, 3, 0, 0, "echo b", 6), 0);
  assert_int_equal(mr__joblog_sync(jl, NULL), 0);
  char *got = tu_read(p, NULL);
  assert_string_equal(got, HEADER LINE_A
                                  "2\t:\t0.000\t     0.100\t0\t3\t0\t0\techo b\n");
  free(got);
  /* a refused resume goes back to the whole lines, not to the cut one */
  assert_int_equal(mr__joblog_rollback(jl), 0);
  mr__joblog_free(jl);
  got = tu_read(p, NULL);
  assert_string_equal(got, HEADER LINE_A);
  free(got);
}

static void test_append_to_empty_file_writes_the_header(void **st) {
  (void)st;
  char p[256];
  tu_path(p, sizeof p, "empty.log");
  tu_write(p, "", 0);
  mr__joblog *jl = NULL;
  assert_int_equal(mr__joblog_open(p, 1, &jl, NULL), 0);
  mr__joblog_free(jl);
  char *got = tu_read(p, NULL);
  assert_string_equal(got, HEADER);
  free(got);
}

static void test_rollback_restores_what_was_opened(void **st) {
  (void)st;
  char p[256];
  tu_path(p, sizeof p, "rollback.log");
  const char *text = HEADER LINE_A;
  tu_write(p, text, strlen(text));
  mr__joblog *jl = NULL;
  assert_int_equal(mr__joblog_open(p, 1, &jl, NULL), 0);
  assert_int_equal(mr__joblog_add(jl, 1, ":", 0, 0, 0, 0, 0, "echo b", 6), 0);
  assert_int_equal(mr__joblog_sync(jl, NULL), 0);
  assert_int_equal(mr__joblog_add(jl, 2, ":", 0, 0, 0, 0, 0, "echo c", 6), 0);
  assert_int_equal(mr__joblog_rollback(jl), 0);
  assert_int_equal(mr__joblog_sync(jl, NULL), 0); /* the unsynced line is gone too */
  mr__joblog_free(jl);
  char *got = tu_read(p, NULL);
  assert_string_equal(got, text);
  free(got);
}

static void test_rollback_of_a_new_file_empties_it(void **st) {
  (void)st;
  char p[256];
  tu_path(p, sizeof p, "rollback-new.log");
  mr__joblog *jl = NULL;
  assert_int_equal(mr__joblog_open(p, 0, &jl, NULL), 0);
  assert_int_equal(mr__joblog_rollback(jl), 0);
  mr__joblog_free(jl);
  size_t len = 1;
  char *got = tu_read(p, &len);
  assert_int_equal(len, 0);
  free(got);
}

static void test_open_fails_with_the_code_and_the_message(void **st) {
  (void)st;
  char p[256];
  mr__joblog *jl = NULL;
  mr_buf why = {0}, want = {0};
  assert_int_equal(mr__joblog_open(tu_path(p, sizeof p, "no/such/dir/log"), 0, &jl, &why),
                   MR_ENOENT);
  assert_null(jl);
  mr_buf_printf(&want, "cannot write '%s': %s", p, strerror(ENOENT));
  assert_string_equal(why.data, want.data);
  mr_buf_free(&why);
  mr_buf_free(&want);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_file_has_the_header_and_records),
      cmocka_unit_test(test_lines_wait_for_sync),
      cmocka_unit_test(test_load_reads_records_not_the_header),
      cmocka_unit_test(test_load_of_no_file_is_empty),
      cmocka_unit_test(test_load_ignores_a_cut_last_line),
      cmocka_unit_test(test_append_cuts_a_cut_last_line_and_keeps_the_header),
      cmocka_unit_test(test_append_to_empty_file_writes_the_header),
      cmocka_unit_test(test_rollback_restores_what_was_opened),
      cmocka_unit_test(test_rollback_of_a_new_file_empties_it),
      cmocka_unit_test(test_open_fails_with_the_code_and_the_message),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
