/* test_output.c: results reach FILE only whole: a temporary renamed at the
 * end, or FILE.partial kept for a resume. */
#include "tu.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "text/output.h"

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
  mr__output *o = NULL;
  assert_int_equal(mr__output_open(path, 0, UINT64_MAX, &o, NULL), 0);
  assert_non_null(o);
  return o;
}

static void test_commit_renames_into_place(void **st) {
  (void)st;
  char path[128];
  mr__output *o = open_res(path, sizeof path);
  assert_int_equal(mr__output_write(o, "a\t1\n", 4), 0);
  assert_int_equal(mr__output_write(o, "b\t2\n", 4), 0);
  assert_int_equal(mr__output_size(o), 8);
  assert_false(tu_exists(path)); /* not under the final name yet */
  assert_int_equal(mr__output_commit(o), 0);
  mr__output_free(o);
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
    assert_int_equal(mr__output_write(o, "ab", 2), 0);
    memcpy(want + total, "ab", 2);
    total += 2;
    memset(piece, 'x' + k, big);
    assert_int_equal(mr__output_write(o, piece, big), 0);
    memcpy(want + total, piece, big);
    total += big;
  }
  assert_int_equal(mr__output_write(o, "end", 3), 0);
  memcpy(want + total, "end", 3);
  total += 3;
  assert_int_equal(mr__output_size(o), total);
  assert_int_equal(mr__output_commit(o), 0);
  mr__output_free(o);
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
  mr__output *o = NULL;
  assert_int_equal(mr__output_open(path, 0, UINT64_MAX, &o, NULL), 0);
  assert_non_null(o);
  assert_int_equal(mr__output_write(o, "new\n", 4), 0);
  assert_int_equal(mr__output_flush(o), 0);
  mr__output_free(o); /* never committed */
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
  mr__output *o = NULL;
  assert_int_equal(mr__output_open(path, 1, UINT64_MAX, &o, NULL), 0);
  assert_non_null(o);
  assert_int_equal(mr__output_write(o, "1\n2\n", 4), 0);
  assert_int_equal(mr__output_keep(o), 0);
  mr__output_free(o);
  assert_true(tu_exists(partial));
  assert_false(tu_exists(path));
  /* a half-written record after what the journal vouches for: cut off */
  tu_write(partial, "1\n2\n3", 5);
  assert_int_equal(mr__output_open(path, 1, 4, &o, NULL), 0);
  assert_non_null(o);
  assert_int_equal(mr__output_size(o), 4);
  assert_int_equal(mr__output_write(o, "3\n", 2), 0);
  assert_int_equal(mr__output_keep(o), 0);
  mr__output_free(o);
  char *got = tu_read(partial, NULL);
  assert_string_equal(got, "1\n2\n3\n");
  free(got);
}

/* Two runs started at the same instant on one -o FILE: the one whose
 * FILE.partial is already there when it creates its own does not remove
 * it (that would lose the other run's results): it is refused. */
static void test_partial_of_another_run_is_left_alone(void **st) {
  (void)st;
  clean();
  char path[128], partial[160];
  tu_path(path, sizeof path, "res.txt");
  snprintf(partial, sizeof partial, "%s.partial", path);
  tu_write(partial, "theirs\n", 7);
  mr__output *o = NULL;
  mr_buf why = {0};
  assert_int_equal(mr__output_open(path, 1, UINT64_MAX, &o, &why), MR_EEXIST);
  assert_null(o);
  assert_non_null(strstr(why.data, "another run is starting on"));
  mr_buf_free(&why);
  char *got = tu_read(partial, NULL);
  assert_string_equal(got, "theirs\n");
  free(got);
  assert_int_equal(count_entries(tu_tmpdir()), 1);
}

static void test_unwritable_directory(void **st) {
  (void)st;
  mr__output *o = NULL;
  mr_buf why = {0};
  assert_int_equal(mr__output_open("/nonexistent-dir/res.txt", 0, UINT64_MAX, &o, &why),
                   MR_ENOENT);
  assert_null(o);
  mr_buf want = {0};
  mr_buf_printf(&want, "cannot write '/nonexistent-dir/res.txt': %s", strerror(ENOENT));
  assert_string_equal(why.data, want.data);
  mr_buf_free(&why);
  mr_buf_free(&want);
}

static void test_full_disk_reports_eio(void **st) {
  (void)st;
  if (access("/dev/full", W_OK)) skip();
  mr__output *o = NULL;
  assert_int_equal(mr__output_open("/dev/full", 0, UINT64_MAX, &o, NULL), 0);
  assert_non_null(o); /* a device is written in place */
  char block[8192];
  memset(block, 'x', sizeof block);
  int rc = 0;
  for (int i = 0; i < 64 && !rc; i++) rc = mr__output_write(o, block, sizeof block);
  if (!rc) rc = mr__output_flush(o);
  assert_int_equal(rc, MR_EIO);
  assert_int_equal(mr__output_error(o), MR_ENOSPC);
  assert_string_equal(mr__output_why(o), "cannot write '/dev/full': No space left on device");
  mr__output_free(o);
}

/* Another user who can write the directory plants the temporary's name as
 * a symlink: it is refused, not followed. */
static void test_temporary_never_follows_a_planted_link(void **st) {
  (void)st;
  clean();
  char path[128], tmp[160], victim[128];
  tu_path(path, sizeof path, "res.txt");
  tu_path(victim, sizeof victim, "victim");
  tu_write(victim, "precious\n", 9);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  assert_int_equal(symlink(victim, tmp), 0);
  mr__output *o = NULL;
  int rc = mr__output_open(path, 0, UINT64_MAX, &o, NULL);
  if (o) { /* before the fix: written through the link */
    mr__output_write(o, "new\n", 4);
    mr__output_commit(o);
    mr__output_free(o);
  }
  assert_null(o);
  assert_int_equal(rc, MR_EACCES); /* EPERM: a link not to follow */
  char *got = tu_read(victim, NULL);
  assert_string_equal(got, "precious\n");
  free(got);
  /* a dangling one: nothing created where it points */
  unlink(tmp);
  unlink(victim);
  assert_int_equal(symlink(victim, tmp), 0);
  assert_int_equal(mr__output_open(path, 0, UINT64_MAX, &o, NULL), MR_EACCES);
  assert_null(o);
  assert_false(tu_exists(victim));
}

/* A 0600 file stays 0600 when replaced, and its temporary is no wider. */
static void test_commit_keeps_the_mode(void **st) {
  (void)st;
  clean();
  char path[128];
  tu_path(path, sizeof path, "res.txt");
  tu_write(path, "old\n", 4);
  assert_int_equal(chmod(path, 0600), 0);
  mr__output *o = NULL;
  assert_int_equal(mr__output_open(path, 1, UINT64_MAX, &o, NULL), 0);
  assert_non_null(o);
  struct stat sb;
  assert_int_equal(stat(mr__output_temp(o), &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  assert_int_equal(mr__output_write(o, "new\n", 4), 0);
  assert_int_equal(mr__output_commit(o), 0);
  mr__output_free(o);
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
}

/* /dev/fd/N and /proc/self/fd/N mean the open descriptor: written into
 * where it stands, as standard output is, with no temporary beside it
 * (before: "/dev/fd/N.tmp.PID: No such file or directory"). */
static void test_descriptor_names_write_into_it(void **st) {
  (void)st;
  clean();
  char file[128], path[64];
  tu_path(file, sizeof file, "fd.txt");
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  assert_true(fd > 2);
  assert_int_equal(write(fd, "0\n", 2), 2); /* what the caller wrote first */
  snprintf(path, sizeof path, "/dev/fd/%d", fd);
  mr__output *o = NULL;
  assert_int_equal(mr__output_open(path, 1, UINT64_MAX, &o, NULL), 0);
  assert_non_null(o);
  assert_null(mr__output_temp(o));
  assert_int_equal(mr__output_write(o, "a\t1\n", 4), 0);
  assert_int_equal(mr__output_commit(o), 0);
  mr__output_free(o);
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  assert_int_equal(mr__output_open(path, 0, UINT64_MAX, &o, NULL), 0);
  assert_non_null(o);
  assert_int_equal(mr__output_write(o, "b\t2\n", 4), 0);
  assert_int_equal(mr__output_commit(o), 0);
  mr__output_free(o);
  assert_int_equal(write(fd, "z\n", 2), 2); /* still open: the output had a copy */
  close(fd);
  char *got = tu_read(file, NULL);
  assert_string_equal(got, "0\na\t1\nb\t2\nz\n");
  free(got);
  assert_int_equal(count_entries(tu_tmpdir()), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_commit_renames_into_place),
      cmocka_unit_test(test_large_pieces_keep_their_order),
      cmocka_unit_test(test_abandoned_run_leaves_nothing),
      cmocka_unit_test(test_resumable_keeps_partial),
      cmocka_unit_test(test_partial_of_another_run_is_left_alone),
      cmocka_unit_test(test_unwritable_directory),
      cmocka_unit_test(test_full_disk_reports_eio),
      cmocka_unit_test(test_temporary_never_follows_a_planted_link),
      cmocka_unit_test(test_commit_keeps_the_mode),
      cmocka_unit_test(test_descriptor_names_write_into_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
