/* test_journal.c: FILE.journal, the joblog, and the set of finished items
 * a resumed run skips. */
#include "tu.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text/doneset.h"
#include "text/joblog.h"
#include "text/journal.h"

static uint64_t h(const char *s) { return mr__doneset_hash(s, strlen(s)); }

/* The output file NAME in the test directory, with its partial and
 * journal. */
typedef struct names {
  char out[128], partial[160], journal[160];
} names;
static void names_of(names *n, const char *name) {
  tu_path(n->out, sizeof n->out, name);
  snprintf(n->partial, sizeof n->partial, "%s.partial", n->out);
  snprintf(n->journal, sizeof n->journal, "%s.journal", n->out);
}

/* The file holds exactly want[0, len). */
static void assert_file_is(const char *path, const char *want, size_t len) {
  size_t got_len;
  char *got = tu_read(path, &got_len);
  assert_int_equal(got_len, len);
  assert_memory_equal(got, want, len);
  free(got);
}

static void test_doneset_latest_record_wins(void **st) {
  (void)st;
  mr__jrec recs[] = {
      {0, 3, 0, 30, h("a"), h("c"), 0, 0},  /* items 0-2 done */
      {5, 6, 30, 30, h("f"), h("f"), -7, 1}, /* item 5 failed */
      {3, 5, 30, 50, h("d"), h("e"), 0, 2},  /* items 3-4 done later */
      {5, 6, 50, 60, h("f"), h("f"), 0, 3},  /* item 5 redone: done */
      {8, 9, 60, 60, h("i"), h("i"), -1, 4}, /* item 8 failed */
  };
  mr__doneset d;
  assert_int_equal(mr__doneset_build(&d, recs, 5), 0);
  assert_int_equal(mr__doneset_failed(&d), 1);
  const mr__jrec *r;
  assert_int_equal(mr__doneset_skip(&d, 0, 0, &r), 1);
  assert_non_null(r);
  assert_true(r->h_first == h("a"));
  assert_int_equal(mr__doneset_skip(&d, 1, 0, &r), 1);
  assert_int_equal(mr__doneset_skip(&d, 4, 0, &r), 1);
  assert_int_equal(mr__doneset_skip(&d, 5, 0, &r), 1);
  assert_int_equal(mr__doneset_skip(&d, 6, 0, &r), 0); /* never run */
  assert_null(r);
  assert_int_equal(mr__doneset_skip(&d, 8, 0, &r), 1); /* failed: done */
  mr__doneset_free(&d);
  assert_int_equal(mr__doneset_build(&d, recs, 5), 0);
  assert_int_equal(mr__doneset_skip(&d, 8, 1, &r), 0); /* --resume-failed */
  mr__doneset_free(&d);
}

static void test_journal_assembles_in_input_order(void **st) {
  (void)st;
  names n;
  names_of(&n, "res.txt");
  const char *out = n.out, *partial = n.partial, *jpath = n.journal;
  mr__journal *j = NULL;
  assert_int_equal(mr__journal_start(out, "-j square", &j, NULL), 0);
  /* the chunk of items 2-3 finished before that of items 0-1 */
  tu_write(partial, "c\t9\nd\t16\na\t1\nb\t4\n", 17);
  assert_int_equal(mr__journal_result(j, 2, 4, 9, h("c"), h("d")), 0);
  assert_int_equal(mr__journal_result(j, 0, 2, 17, h("a"), h("b")), 0);
  assert_int_equal(mr__journal_sync(j, NULL), 0);
  assert_int_equal(mr__journal_out_size(j), 17);
  assert_int_equal(mr__journal_complete(j, partial, out, 0, NULL), 0);
  mr__journal_free(j);
  char *got = tu_read(out, NULL);
  assert_string_equal(got, "a\t1\nb\t4\nc\t9\nd\t16\n");
  free(got);
  assert_false(tu_exists(partial));
  assert_false(tu_exists(jpath));
  unlink(out);
}

/* The assembled file replaces one of mode 0640 and keeps that mode; a
 * journal planted as a symlink is refused, its target untouched. */
static void test_journal_keeps_mode_and_follows_no_link(void **st) {
  (void)st;
  char out[128], partial[160], jpath[160], victim[128];
  tu_path(out, sizeof out, "mode.txt");
  tu_path(victim, sizeof victim, "victim");
  snprintf(partial, sizeof partial, "%s.partial", out);
  snprintf(jpath, sizeof jpath, "%s.journal", out);
  tu_write(victim, "precious\n", 9);
  assert_int_equal(symlink(victim, jpath), 0);
  mr__journal *j = NULL;
  assert_int_not_equal(mr__journal_start(out, "-j square", &j, NULL), 0);
  mr__journal_free(j);
  char *got = tu_read(victim, NULL);
  assert_string_equal(got, "precious\n");
  free(got);
  unlink(jpath);
  unlink(victim);
  tu_write(out, "old\n", 4);
  assert_int_equal(chmod(out, 0640), 0);
  j = NULL;
  assert_int_equal(mr__journal_start(out, "-j square", &j, NULL), 0);
  tu_write(partial, "b\t4\na\t1\n", 8);
  assert_int_equal(mr__journal_result(j, 1, 2, 4, h("b"), h("b")), 0);
  assert_int_equal(mr__journal_result(j, 0, 1, 8, h("a"), h("a")), 0);
  assert_int_equal(mr__journal_complete(j, partial, out, 0, NULL), 0);
  mr__journal_free(j);
  got = tu_read(out, NULL);
  assert_string_equal(got, "a\t1\nb\t4\n");
  free(got);
  struct stat sb;
  assert_int_equal(stat(out, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0640);
  unlink(out);
}

static void test_journal_load_after_a_kill(void **st) {
  (void)st;
  names n;
  names_of(&n, "k.txt");
  const char *out = n.out, *jpath = n.journal;
  mr__journal *j = NULL;
  assert_int_equal(mr__journal_start(out, "-j prime", &j, NULL), 0);
  assert_int_equal(mr__journal_result(j, 0, 2, 8, h("11"), h("12")), 0);
  assert_int_equal(mr__journal_failure(j, 2, MR_EINVAL, h("x")), 0);
  assert_int_equal(mr__journal_result(j, 3, 4, 12, h("13"), h("13")), 0);
  assert_int_equal(mr__journal_sync(j, NULL), 0);
  mr__journal_free(j);
  /* the kill cut the next record in half */
  FILE *f = fopen(jpath, "a");
  fputs("R 4 9 3", f);
  fclose(f);
  /* only 8 bytes of the partial file reached the disk */
  mr_buf why = {0};
  assert_int_equal(mr__journal_load(out, "-j prime", 8, &j, &why), 0);
  assert_non_null(j);
  assert_int_equal(mr__journal_out_size(j), 8); /* the last result is not vouched for */
  mr__doneset *d = mr__journal_done(j);
  const mr__jrec *r;
  assert_int_equal(mr__doneset_skip(d, 0, 0, &r), 1);
  assert_true(r->h_first == h("11"));
  assert_int_equal(mr__doneset_skip(d, 1, 0, &r), 1);
  assert_int_equal(mr__doneset_skip(d, 2, 0, &r), 1); /* failed, recorded */
  assert_int_equal(mr__doneset_skip(d, 3, 0, &r), 0); /* to do again */
  mr__journal_free(j);
  /* the same journal is refused for another job */
  assert_int_equal(mr__journal_load(out, "-j square", 8, &j, &why), MR_EINVAL);
  assert_non_null(strstr(why.data, "belongs to another job"));
  why.len = 0;
  /* and when it is not a journal at all */
  tu_write(jpath, "hello\n", 6);
  assert_int_equal(mr__journal_load(out, "-j prime", 8, &j, &why), MR_EINVAL);
  assert_non_null(strstr(why.data, "is not a mapreduce journal"));
  mr_buf_free(&why);
  /* no journal: nothing to resume */
  unlink(jpath);
  assert_int_equal(mr__journal_load(out, "-j prime", 0, &j, &why), 0);
  assert_null(j);
}

/* A stale journal (its run gone) is replaced by a fresh start; one that a
 * run holds is not, whatever else the fresh start saw. */
static void test_journal_held_is_never_replaced(void **st) {
  (void)st;
  names n;
  names_of(&n, "held.txt");
  tu_write(n.journal, "stale\n", 6);
  mr__journal *j = NULL;
  assert_int_equal(mr__journal_start(n.out, "-j square", &j, NULL), 0);
  mr__journal_free(j);
  int fd = open(n.journal, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(flock(fd, LOCK_EX), 0); /* another run, holding it */
  size_t len;
  char *before = tu_read(n.journal, &len);
  mr_buf why = {0};
  j = NULL;
  assert_int_equal(mr__journal_start(n.out, "-j cube", &j, &why), MR_EAGAIN);
  assert_null(j);
  assert_non_null(strstr(why.data, "belongs to a run still in progress"));
  mr_buf_free(&why);
  assert_file_is(n.journal, before, len);
  free(before);
  close(fd);
  unlink(n.journal);
}

static void test_journal_rollback(void **st) {
  (void)st;
  names n;
  names_of(&n, "rb.txt");
  const char *out = n.out, *partial = n.partial, *jpath = n.journal;
  /* started by this run: removed */
  mr__journal *j = NULL;
  assert_int_equal(mr__journal_start(out, "-j square", &j, NULL), 0);
  tu_write(partial, "a\t1\n", 4);
  assert_int_equal(mr__journal_result(j, 0, 1, 4, h("a"), mr__doneset_chain(0, h("a"))), 0);
  assert_int_equal(mr__journal_sync(j, NULL), 0);
  mr__journal_free(j);
  /* loaded: cut back to what was loaded */
  size_t jlen;
  char *before = tu_read(jpath, &jlen);
  mr_buf why = {0};
  assert_int_equal(mr__journal_load(out, "-j square", 4, &j, &why), 0);
  assert_int_equal(mr__journal_resume(j, NULL), 0);
  tu_write(partial, "a\t1\nb\t4\n", 8);
  assert_int_equal(mr__journal_result(j, 1, 2, 8, h("b"), mr__doneset_chain(0, h("b"))), 0);
  assert_int_equal(mr__journal_sync(j, NULL), 0);
  assert_int_equal(mr__journal_rollback(j, partial), 0);
  mr__journal_free(j);
  assert_file_is(jpath, before, jlen);
  assert_file_is(partial, "a\t1\n", 4);
  free(before);
  assert_int_equal(mr__journal_start(out, "-j square", &j, NULL), 0);
  assert_int_equal(mr__journal_rollback(j, partial), 0);
  mr__journal_free(j);
  assert_false(tu_exists(partial));
  assert_false(tu_exists(jpath));
  /* a journal of another version is refused, saying so */
  tu_write(jpath, "mapreduce journal 1\njob -j square\n", 34);
  assert_int_equal(mr__journal_load(out, "-j square", 0, &j, &why), MR_EINVAL);
  assert_non_null(strstr(why.data, "another version of mapreduce"));
  mr_buf_free(&why);
  unlink(jpath);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_doneset_latest_record_wins),
      cmocka_unit_test(test_journal_assembles_in_input_order),
      cmocka_unit_test(test_journal_load_after_a_kill),
      cmocka_unit_test(test_journal_keeps_mode_and_follows_no_link),
      cmocka_unit_test(test_journal_rollback),
      cmocka_unit_test(test_journal_held_is_never_replaced),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
