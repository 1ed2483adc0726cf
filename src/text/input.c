/* input.c: reads items one line at a time without holding the file.
 * One buffer of max_line plus a read block; lines are handed out as pointers
 * into it, so the per-item cost is a memchr and a trim. */
#include "text/input.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "mapreduce.h"

#define READ_BLOCK (256u << 10)
/* a pipe or terminal is waited on in steps this long, looking at the stop
 * flag in between: the signal that sets it may land on another thread, or
 * just before the wait began */
#define WAIT_STEP_MS 100

struct mr__input {
  int fd;
  int own_fd;
  int eof;
  int pollable;   /* not a regular file: wait for it with poll */
  volatile sig_atomic_t *stop; /* nonzero: give up reading (mr__input_watch) */
  int discarding; /* inside an over-long line: drop bytes up to its newline */
  int nowait_ms;  /* a pipe silent this long: MR__INPUT_AGAIN (mr__input_nowait) */
  size_t nul_end; /* one past the last NUL byte in buf, 0 = none: only
                     lines before it are searched for one */
  char *buf;
  size_t cap, pos, end;
  size_t max_line;
  uint64_t lineno;
  uint64_t consumed; /* bytes before buf[pos] */
  uint64_t size;
  char *name;
};

mr__input *mr__input_from_fd(int fd, const char *name, size_t max_line) {
  mr__input *in = calloc(1, sizeof *in);
  if (!in) return NULL;
  in->fd = fd;
  in->max_line = max_line ? max_line : MR_LINE_MAX_DEFAULT;
  in->cap = in->max_line + 1 + READ_BLOCK;
  in->buf = malloc(in->cap);
  in->name = strdup(name ? name : "<stdin>");
  if (!in->buf || !in->name) {
    mr__input_free(in);
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) in->size = (uint64_t)st.st_size;
  else in->pollable = 1;
  return in;
}

int mr__input_open(const char *path, size_t max_line, mr__input **out, mr_buf *why) {
  *out = NULL;
  if (!path || strcmp(path, "-") == 0) {
    if (!(*out = mr__input_from_fd(0, "<stdin>", max_line))) return mr__error_file(why, "read", "-", ENOMEM);
    return 0;
  }
  /* O_NONBLOCK: a FIFO without a writer would block the open itself,
   * where no stop can reach it; the reads wait with poll instead, and only
   * a FIFO keeps the flag (a read there returns 0 until a writer came) */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return mr__error_file(why, "read", path, errno);
  struct stat st;
  int ok = fstat(fd, &st) == 0;
  if (ok && S_ISDIR(st.st_mode)) {
    close(fd);
    return mr__error_file(why, "read", path, EISDIR);
  }
  if (!ok || !S_ISFIFO(st.st_mode)) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  mr__input *in = mr__input_from_fd(fd, path, max_line);
  if (!in) {
    close(fd);
    return mr__error_file(why, "read", path, ENOMEM);
  }
  in->own_fd = 1;
  *out = in;
  return 0;
}

void mr__input_free(mr__input *in) {
  if (!in) return;
  if (in->own_fd) close(in->fd);
  free(in->buf);
  free(in->name);
  free(in);
}

void mr__input_watch(mr__input *in, volatile sig_atomic_t *stop) { in->stop = stop; }
void mr__input_nowait(mr__input *in, int ms) { in->nowait_ms = ms; }

const char *mr__input_name(const mr__input *in) { return in->name; }
uint64_t mr__input_offset(const mr__input *in) { return in->consumed; }
uint64_t mr__input_size(const mr__input *in) { return in->size; }

static int stopped(const mr__input *in) { return in->stop && *in->stop; }

/* Waits until a pipe or terminal has bytes (or its end) to read: 0,
 * MR_EINTR once the stop flag is set, or MR__INPUT_AGAIN after nowait_ms
 * of silence when that is set. */
static int input_wait(mr__input *in) {
  for (;;) {
    if (stopped(in)) return MR_EINTR;
    struct pollfd p = {in->fd, POLLIN, 0};
    int n = poll(&p, 1, in->nowait_ms ? in->nowait_ms : WAIT_STEP_MS);
    if (n > 0) return 0;
    if (n == 0 && in->nowait_ms) return MR__INPUT_AGAIN;
    if (n < 0 && errno != EINTR) return 0; /* the read will say why */
  }
}

/* Moves the unread tail to the front and reads more: 1 read, 0 eof,
 * MR__INPUT_AGAIN (nothing came within nowait_ms), <0 error (MR_EINTR:
 * stopped) */
static int input_fill(mr__input *in, mr_buf *why) {
  /* once a block: an endless line of /dev/zero is skipped here forever */
  if (stopped(in)) return MR_EINTR;
  if (in->pos > 0) {
    memmove(in->buf, in->buf + in->pos, in->end - in->pos);
    in->nul_end = in->nul_end > in->pos ? in->nul_end - in->pos : 0;
    in->end -= in->pos;
    in->pos = 0;
  }
  /* a block at a time, not the whole buffer: the first read of 1.3 MB
   * into fresh pages took 5 ms here (page faults), during which no rank
   * had work; the rest of the buffer is touched while they compute */
  size_t want = in->cap - in->end;
  if (want > READ_BLOCK) want = READ_BLOCK;
  for (;;) {
    if (in->pollable) {
      int w = input_wait(in);
      if (w) return w;
    }
    ssize_t n = read(in->fd, in->buf + in->end, want);
    if (n > 0) {
      /* one look over the block instead of one a line: a NUL is rare */
      const char *nul = memrchr(in->buf + in->end, '\0', (size_t)n);
      if (nul) in->nul_end = (size_t)(nul - in->buf) + 1;
      in->end += (size_t)n;
      return 1;
    }
    if (n == 0) {
      in->eof = 1;
      return 0;
    }
    /* EAGAIN: a descriptor someone made non-blocking (poll waits) */
    if (errno != EINTR && errno != EAGAIN) {
      /* MR_EIO, whatever the errno: a caller only tells that reading
       * failed; the reason is in the message */
      mr__error_file(why, "read", in->name, errno);
      return MR_EIO;
    }
  }
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Trims and classifies one raw line: 1 an item (or a bad line), 0 skip it. */
static int input_take(mr__input *in, const char *p, size_t n, mr__line *line) {
  line->lineno = ++in->lineno;
  line->bad = 0;
  if (in->lineno == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
    p += 3; /* a UTF-8 byte order mark, as editors on Windows write */
    n -= 3;
  }
  while (n && is_space(*p)) p++, n--;
  while (n && is_space(p[n - 1])) n--;
  if (n == 0 || *p == '#') return 0;
  if ((size_t)(p - in->buf) < in->nul_end && memchr(p, '\0', n)) line->bad = MR_ENUL;
  line->text = p;
  line->len = n;
  return 1;
}

/* Reports the line being read as over max_line. */
static int input_too_long(mr__input *in, mr__line *line) {
  line->lineno = ++in->lineno;
  line->bad = MR_ETOOLONG;
  line->text = "";
  line->len = 0;
  return 1;
}

int mr__input_next(mr__input *in, mr__line *line, mr_buf *why) {
  for (;;) {
    char *start = in->buf + in->pos;
    char *nl = in->pos < in->end ? memchr(start, '\n', in->end - in->pos) : NULL;
    if (nl) {
      size_t n = (size_t)(nl - start);
      in->pos += n + 1;
      in->consumed += n + 1;
      if (in->discarding) {
        in->discarding = 0;
        continue;
      }
      /* a long line can arrive whole, newline and all, in one read */
      if (n > in->max_line) return input_too_long(in, line);
      if (input_take(in, start, n, line)) return 1;
      continue;
    }
    size_t pending = in->end - in->pos;
    if (in->discarding) { /* drop what we have of the long line */
      in->consumed += pending;
      in->pos = in->end;
    } else if (pending > in->max_line) {
      in->consumed += pending;
      in->pos = in->end;
      in->discarding = 1;
      return input_too_long(in, line);
    }
    if (in->eof) {
      if (in->pos == in->end) return 0;
      /* a last line without a newline */
      start = in->buf + in->pos;
      in->pos = in->end;
      in->consumed += pending;
      if (input_take(in, start, pending, line)) return 1;
      continue;
    }
    int rc = input_fill(in, why);
    if (rc < 0 || rc == MR__INPUT_AGAIN) return rc; /* the line so far stays */
  }
}
