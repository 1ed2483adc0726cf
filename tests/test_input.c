/* test_input.c: the streaming line reader: trimming, skipping, line
 * numbers, CRLF, NUL bytes, over-long lines, files without a last newline,
 * FIFOs, and a stop ending every wait for input. */
#include "tu.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "text/input.h"

typedef struct got {
  char text[64];
  uint64_t lineno;
  int bad;
} got;

/* Reads every item of data through a file; returns how many. */
static int read_all(const char *data, size_t len, size_t max_line, got *g,
                    int cap) {
  char path[128];
  tu_write(tu_path(path, sizeof path, "in.txt"), data, len);
  mr__input *in = NULL;
  assert_int_equal(mr__input_open(path, max_line, &in, NULL), 0);
  assert_non_null(in);
  assert_int_equal(mr__input_size(in), len);
  int n = 0;
  mr__line line;
  int rc;
  while ((rc = mr__input_next(in, &line, NULL)) == 1) {
    assert_true(n < cap);
    size_t k = line.len < sizeof g[n].text - 1 ? line.len : sizeof g[n].text - 1;
    memcpy(g[n].text, line.text, k);
    g[n].text[k] = '\0';
    g[n].lineno = line.lineno;
    g[n].bad = line.bad;
    n++;
  }
  assert_int_equal(rc, 0);
  assert_int_equal(mr__input_offset(in), len);
  mr__input_free(in);
  return n;
}

static void test_trims_and_skips(void **st) {
  (void)st;
  const char *s = "  7 \r\n\n# comment\n\t11\t\n   \n-5";
  got g[8];
  int n = read_all(s, strlen(s), 0, g, 8);
  assert_int_equal(n, 3);
  assert_string_equal(g[0].text, "7");
  assert_int_equal(g[0].lineno, 1);
  assert_string_equal(g[1].text, "11");
  assert_int_equal(g[1].lineno, 4);
  assert_string_equal(g[2].text, "-5"); /* no newline at the end */
  assert_int_equal(g[2].lineno, 6);
  for (int i = 0; i < n; i++) assert_int_equal(g[i].bad, 0);
}

static void test_bom_and_crlf(void **st) {
  (void)st;
  const char *s = "\xEF\xBB\xBF" "13\r\n17\r\n";
  got g[4];
  int n = read_all(s, strlen(s), 0, g, 4);
  assert_int_equal(n, 2);
  assert_string_equal(g[0].text, "13");
  assert_string_equal(g[1].text, "17");
}

static void test_nul_byte_marks_the_line(void **st) {
  (void)st;
  const char s[] = "1\n2\0003\n4\n";
  got g[4];
  int n = read_all(s, sizeof s - 1, 0, g, 4);
  assert_int_equal(n, 3);
  assert_int_equal(g[0].bad, 0);
  assert_int_equal(g[1].bad, MR_ENUL);
  assert_int_equal(g[1].lineno, 2);
  assert_int_equal(g[2].bad, 0);
  assert_string_equal(g[2].text, "4");
  assert_int_equal(g[2].lineno, 3);
}

/* NUL bytes are looked for once a read block, then in the lines of a block
 * that has one: past the first block, and in a line that spans two. */
static void test_nul_byte_in_a_later_block(void **st) {
  (void)st;
  size_t lines = 300000; /* 600,000 bytes: three reads, the second clean */
  size_t edge = (256u << 10) - 2; /* a line from here spans two reads */
  char *s = malloc(2 * lines + 64);
  for (size_t i = 0; i < lines; i++) memcpy(s + 2 * i, "1\n", 2);
  memcpy(s + edge - 2, "2\n", 2);
  memcpy(s + edge, "a\000b\n", 4); /* the NUL in the first read */
  size_t len = 2 * lines;
  memcpy(s + len, "c\000d\n9\n", 6); /* and in the second */
  len += 6;
  got *g = calloc(lines + 8, sizeof *g);
  int n = read_all(s, len, 0, g, (int)lines + 8);
  int nul = 0, nines = 0;
  for (int i = 0; i < n; i++) {
    if (g[i].bad == MR_ENUL) {
      nul++;
      /* "a\0b\n" took the place of two lines */
      assert_true(g[i].lineno == edge / 2 + 1 || g[i].lineno == lines);
    }
    nines += strcmp(g[i].text, "9") == 0;
  }
  assert_int_equal(nul, 2);
  assert_int_equal(nines, 1);
  free(g);
  free(s);
}

static void test_long_line_is_one_bad_item(void **st) {
  (void)st;
  size_t big = 300000; /* longer than the limit and than one read */
  char *s = malloc(big + 16);
  strcpy(s, "5\n");
  memset(s + 2, 'x', big);
  strcpy(s + 2 + big, "\n6\n");
  got g[4];
  int n = read_all(s, strlen(s), 1000, g, 4);
  assert_int_equal(n, 3);
  assert_string_equal(g[0].text, "5");
  assert_int_equal(g[1].bad, MR_ETOOLONG);
  assert_int_equal(g[1].lineno, 2);
  assert_string_equal(g[2].text, "6");
  assert_int_equal(g[2].lineno, 3);
  free(s);
}

static void test_line_at_the_limit_is_fine(void **st) {
  (void)st;
  char s[64];
  memset(s, '9', 20);
  strcpy(s + 20, "\n");
  got g[2];
  assert_int_equal(read_all(s, strlen(s), 20, g, 2), 1);
  assert_int_equal(g[0].bad, 0);
  assert_int_equal(strlen(g[0].text), 20);
}

static void test_empty_file_and_only_blanks(void **st) {
  (void)st;
  got g[1];
  assert_int_equal(read_all("", 0, 0, g, 1), 0);
  assert_int_equal(read_all("\n\n  \n#x\n", 8, 0, g, 1), 0);
}

static void test_missing_file_and_directory(void **st) {
  (void)st;
  char path[128];
  mr__input *in = NULL;
  mr_buf why = {0};
  tu_path(path, sizeof path, "nope.txt");
  assert_int_equal(mr__input_open(path, 0, &in, &why), MR_ENOENT);
  assert_null(in);
  mr_buf want = {0};
  mr_buf_printf(&want, "cannot read '%s': %s", path, strerror(ENOENT));
  assert_string_equal(why.data, want.data);
  why.len = want.len = 0;
  assert_int_equal(mr__input_open(tu_tmpdir(), 0, &in, &why), MR_EIO);
  assert_null(in);
  mr_buf_printf(&want, "cannot read '%s': %s", tu_tmpdir(), strerror(EISDIR));
  assert_string_equal(why.data, want.data);
  assert_int_equal(mr__input_open(tu_tmpdir(), 0, &in, NULL), MR_EIO); /* no why wanted */
  mr_buf_free(&why);
  mr_buf_free(&want);
}

static void test_pipe_has_no_size(void **st) {
  (void)st;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(write(fds[1], "8\n9\n", 4), 4);
  close(fds[1]);
  mr__input *in = mr__input_from_fd(fds[0], NULL, 0);
  assert_non_null(in);
  assert_string_equal(mr__input_name(in), "<stdin>");
  assert_int_equal(mr__input_size(in), 0);
  mr__line line;
  assert_int_equal(mr__input_next(in, &line, NULL), 1);
  assert_int_equal(mr__input_next(in, &line, NULL), 1);
  assert_memory_equal(line.text, "9", 1);
  assert_int_equal(mr__input_next(in, &line, NULL), 0);
  mr__input_free(in);
  close(fds[0]);
}

/* A stop ends a wait on a silent pipe (the writer still there), an open of
 * a FIFO nobody writes to, and the skipping of an endless line. */
static void test_stop_ends_every_wait(void **st) {
  (void)st;
  volatile sig_atomic_t stop = 0;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  mr__input *in = mr__input_from_fd(fds[0], NULL, 0);
  mr__input_watch(in, &stop);
  stop = SIGTERM; /* no signal interrupts the wait: the flag alone */
  mr__line line;
  assert_int_equal(mr__input_next(in, &line, NULL), MR_EINTR);
  mr__input_free(in);
  close(fds[0]);
  close(fds[1]);

  char path[128];
  tu_path(path, sizeof path, "fifo");
  unlink(path);
  assert_int_equal(mkfifo(path, 0600), 0);
  assert_int_equal(mr__input_open(path, 0, &in, NULL), 0); /* returns with no writer */
  assert_non_null(in);
  mr__input_watch(in, &stop);
  assert_int_equal(mr__input_next(in, &line, NULL), MR_EINTR);
  mr__input_free(in);

  assert_int_equal(mr__input_open("/dev/zero", 16, &in, NULL), 0);
  assert_non_null(in);
  mr__input_watch(in, &stop);
  stop = 0;
  assert_int_equal(mr__input_next(in, &line, NULL), 1); /* the first long line */
  assert_int_equal(line.bad, MR_ETOOLONG);
  stop = SIGTERM;
  assert_int_equal(mr__input_next(in, &line, NULL), MR_EINTR);
  mr__input_free(in);
}

/* A FIFO opened before its writer came reads as a blocking open would. */
static void test_fifo_before_its_writer(void **st) {
  (void)st;
  char path[128];
  tu_path(path, sizeof path, "fifo2");
  unlink(path);
  assert_int_equal(mkfifo(path, 0600), 0);
  mr__input *in = NULL;
  assert_int_equal(mr__input_open(path, 0, &in, NULL), 0);
  assert_non_null(in);
  int w = open(path, O_WRONLY);
  assert_true(w >= 0);
  assert_int_equal(write(w, "5\n6\n", 4), 4);
  close(w);
  mr__line line;
  assert_int_equal(mr__input_next(in, &line, NULL), 1);
  assert_memory_equal(line.text, "5", 1);
  assert_int_equal(mr__input_next(in, &line, NULL), 1);
  assert_int_equal(mr__input_next(in, &line, NULL), 0);
  mr__input_free(in);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_trims_and_skips),
      cmocka_unit_test(test_bom_and_crlf),
      cmocka_unit_test(test_nul_byte_marks_the_line),
      cmocka_unit_test(test_nul_byte_in_a_later_block),
      cmocka_unit_test(test_long_line_is_one_bad_item),
      cmocka_unit_test(test_line_at_the_limit_is_fine),
      cmocka_unit_test(test_empty_file_and_only_blanks),
      cmocka_unit_test(test_missing_file_and_directory),
      cmocka_unit_test(test_pipe_has_no_size),
      cmocka_unit_test(test_stop_ends_every_wait),
      cmocka_unit_test(test_fifo_before_its_writer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
