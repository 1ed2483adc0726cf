/* test_output.c: results reach FILE only whole: a temporary renamed at the
 * end, or FILE.partial kept for a resume. */
#include "tu.h"

#include <dirent.h>

#include "output.h"

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static void clean(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -f %s/*", tu_tmpdir());
  if (system(cmd)) {
  }
}

/* An output to res.txt in an emptied directory; path gets its name. */
static mr__output *open_res(char *path, size_t n) {
  clean();
  tu_path(path, n, "res.txt");
  int err = 0;
  mr__output *o = output_open(path, 0, UINT64_MAX, &err);
  assert_non_null(o);
  return o;
}

static void test_commit_renames_into_place(void **st) {
  (void)st;
  char path[128];
  mr__output *o = open_res(path, sizeof path);
  assert_int_equal(output_write(o, "a\t1\n", 4), 0);
  assert_int_equal(output_write(o, "b\t2\n", 4), 0);
  assert_int_equal(output_size(o), 8);
  assert_false(tu_exists(path)); /* not under the final name yet */
  assert_int_equal(output_commit(o), 0);
  output_free(o);
  size_t len;
  char *got = tu_read(path, &len);
  assert_string_equal(got, "a\t1\nb\t2\n");
  free(got);
  assert_int_equal(count_entries(tu_tmpdir()), 1); /* no temporary left */
}

/* A chunk's output large enough to skip the buffer still lands after what
 * the buffer held, and before what follows. */
static void test_large_pieces_keep_their_order(void **st) {
  (void)st;
  char path[128];
  mr__output *o = open_res(path, sizeof path);
  size_t big = 100000, total = 0;
  char *want = malloc(3 * big + 16), *piece = malloc(big);
  for (int k = 0; k < 3; k++) {
    assert_int_equal(output_write(o, "ab", 2), 0);
    memcpy(want + total, "ab", 2);
    total += 2;
    memset(piece, 'x' + k, big);
    assert_int_equal(output_write(o, piece, big), 0);
    memcpy(want + total, piece, big);
    total += big;
  }
  assert_int_equal(output_write(o, "end", 3), 0);
  memcpy(want + total, "end", 3);
  total += 3;
  assert_int_equal(output_size(o), total);
  assert_int_equal(output_commit(o), 0);
  output_free(o);
  size_t len;
  char *got = tu_read(path, &len);
  assert_int_equal(len, total);
  assert_memory_equal(got, want, total);
  free(got);
  free(want);
  free(piece);
}

static void test_abandoned_run_leaves_nothing(void **st) {
  (void)st;
  clean();
  char path[128];
  tu_path(path, sizeof path, "res.txt");
  tu_write(path, "old\n", 4);
  int err = 0;
  mr__output *o = output_open(path, 0, UINT64_MAX, &err);
  assert_non_null(o);
  assert_int_equal(output_write(o, "new\n", 4), 0);
  assert_int_equal(output_flush(o), 0);
  output_free(o); /* never committed */
  char *got = tu_read(path, NULL);
  assert_string_equal(got, "old\n"); /* the old file is untouched */
  free(got);
  assert_int_equal(count_entries(tu_tmpdir()), 1);
}

static void test_resumable_keeps_partial(void **st) {
  (void)st;
  clean();
  char path[128], partial[160];
  tu_path(path, sizeof path, "res.txt");
  snprintf(partial, sizeof partial, "%s.partial", path);
  int err = 0;
  mr__output *o = output_open(path, 1, UINT64_MAX, &err);
  assert_non_null(o);
  assert_int_equal(output_write(o, "1\n2\n", 4), 0);
  assert_int_equal(output_keep(o), 0);
  output_free(o);
  assert_true(tu_exists(partial));
  assert_false(tu_exists(path));
  /* a half-written record after what the journal vouches for: cut off */
  tu_write(partial, "1\n2\n3", 5);
  o = output_open(path, 1, 4, &err);
  assert_non_null(o);
  assert_int_equal(output_size(o), 4);
  assert_int_equal(output_write(o, "3\n", 2), 0);
  assert_int_equal(output_keep(o), 0);
  output_free(o);
  char *got = tu_read(partial, NULL);
  assert_string_equal(got, "1\n2\n3\n");
  free(got);
}

static void test_unwritable_directory(void **st) {
  (void)st;
  int err = 0;
  assert_null(output_open("/nonexistent-dir/res.txt", 0, UINT64_MAX, &err));
  assert_int_equal(err, ENOENT);
}

static void test_full_disk_reports_eio(void **st) {
  (void)st;
  if (access("/dev/full", W_OK)) skip();
  int err = 0;
  mr__output *o = output_open("/dev/full", 0, UINT64_MAX, &err);
  assert_non_null(o); /* a device is written in place */
  char block[8192];
  memset(block, 'x', sizeof block);
  int rc = 0;
  for (int i = 0; i < 64 && !rc; i++) rc = output_write(o, block, sizeof block);
  if (!rc) rc = output_flush(o);
  assert_int_equal(rc, MR_EIO);
  assert_int_equal(output_errno(o), ENOSPC);
  output_free(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_commit_renames_into_place),
      cmocka_unit_test(test_large_pieces_keep_their_order),
      cmocka_unit_test(test_abandoned_run_leaves_nothing),
      cmocka_unit_test(test_resumable_keeps_partial),
      cmocka_unit_test(test_unwritable_directory),
      cmocka_unit_test(test_full_disk_reports_eio),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
