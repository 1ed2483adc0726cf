/* test_safefile.c: what a path given to -o or --joblog leads to, which
 * symlinks are followed, derived names, and a file's identity. */
#include "tu.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "text/safefile.h"

static void expect(const char *path, int kind, int fd) {
  mr__target t;
  assert_int_equal(mr__safefile_target(path, "-o", &t, NULL), 0);
  assert_int_equal(t.kind, kind);
  if (kind == SAFEFILE_FD) assert_int_equal(t.fd, fd);
  mr__safefile_target_free(&t);
}

static void test_descriptor_names(void **st) {
  (void)st;
  expect("/dev/stdout", SAFEFILE_FD, 1);
  expect("/dev/stderr", SAFEFILE_FD, 2);
  expect("/dev/fd/1", SAFEFILE_FD, 1);
  expect("/proc/self/fd/2", SAFEFILE_FD, 2);
  expect("/dev/fd/7", SAFEFILE_FD, 7); /* closed: writing it says so */
  char link[128];
  tu_path(link, sizeof link, "to-stdout");
  assert_int_equal(symlink("/proc/self/fd/1", link), 0);
  expect(link, SAFEFILE_FD, 1);
  unlink(link);
  expect("/dev/null", SAFEFILE_DEVICE, 0);
}

static void test_files_and_links(void **st) {
  (void)st;
  char file[128], link[128], rel[128];
  tu_path(file, sizeof file, "real.txt");
  tu_path(link, sizeof link, "link");
  tu_path(rel, sizeof rel, "rel");
  expect(file, SAFEFILE_FILE, 0); /* not there yet: a name to create */
  tu_write(file, "x\n", 2);
  expect(file, SAFEFILE_FILE, 0);
  assert_int_equal(symlink(file, link), 0);
  assert_int_equal(symlink("link", rel), 0); /* relative to its directory */
  mr__target t;
  assert_int_equal(mr__safefile_target(rel, "-o", &t, NULL), 0);
  assert_int_equal(t.kind, SAFEFILE_FILE);
  assert_string_equal(t.path, file);
  mr__safefile_target_free(&t);
  if (geteuid() == 0) { /* a link of another user's is not followed */
    assert_int_equal(lchown(link, 65534, 65534), 0);
    mr_buf why = {0};
    assert_int_equal(mr__safefile_target(rel, "-o", &t, &why), MR_EINVAL);
    assert_non_null(strstr(why.data, "refusing to follow it"));
    mr_buf_free(&why);
  }
  unlink(rel);
  unlink(link);
  unlink(file);
}

static void test_derived_names(void **st) {
  (void)st;
  char name[128], victim[128];
  tu_path(name, sizeof name, "res.journal");
  tu_path(victim, sizeof victim, "victim");
  tu_write(victim, "v", 1);
  assert_int_equal(symlink(victim, name), 0);
  assert_string_equal(mr__safefile_foreign(name), "is a symlink");
  assert_int_equal(mr__safefile_open_beside(name, 1, 0666), -1);
  assert_int_equal(errno, EPERM);
  assert_int_equal(mr__safefile_open_beside(name, 0, 0), -1);
  unlink(name);
  tu_write(name, "stale", 5); /* one's own stale file: replaced */
  assert_null(mr__safefile_foreign(name));
  int fd = mr__safefile_open_beside(name, 1, 0666);
  assert_true(fd >= 0);
  close(fd);
  size_t len;
  char *got = tu_read(name, &len);
  assert_int_equal(len, 0);
  free(got);
  unlink(name);
  tu_write(victim, "v", 1); /* a hard link to another file of ours */
  assert_int_equal(link(victim, name), 0);
  assert_string_equal(mr__safefile_foreign(name), "has another name (a hard link)");
  assert_int_equal(mr__safefile_open_beside(name, 0, 0), -1);
  unlink(name);
  assert_int_equal(mkfifo(name, 0600), 0);
  assert_string_equal(mr__safefile_foreign(name), "is not a regular file");
  unlink(name);
  unlink(victim);
}

static void test_identity(void **st) {
  (void)st;
  char a[128], b[128], c[128];
  tu_path(a, sizeof a, "a");
  tu_path(b, sizeof b, "b");
  tu_path(c, sizeof c, "c");
  tu_write(a, "x", 1);
  assert_int_equal(link(a, b), 0);
  mr__fileid ia, ib, ic, ic2, inull, inull2;
  mr__safefile_id(a, &ia);
  mr__safefile_id(b, &ib);
  assert_true(mr__safefile_same(&ia, &ib)); /* hard links: one file */
  mr__safefile_id(c, &ic); /* not there: by name in its directory */
  char again[160];
  snprintf(again, sizeof again, "%s/../%s/c", tu_tmpdir(), strrchr(tu_tmpdir(), '/') + 1);
  mr__safefile_id(again, &ic2);
  assert_true(mr__safefile_same(&ic, &ic2));
  assert_false(mr__safefile_same(&ia, &ic));
  mr__safefile_id("/dev/null", &inull); /* a device may serve two options */
  mr__safefile_id("/dev/null", &inull2);
  assert_false(mr__safefile_same(&inull, &inull2));
  unlink(a);
  unlink(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descriptor_names),
      cmocka_unit_test(test_files_and_links),
      cmocka_unit_test(test_derived_names),
      cmocka_unit_test(test_identity),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
