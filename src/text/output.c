/* output.c: buffered, atomic result output. */
#include "text/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/error.h"
#include "base/io.h"
#include "mapreduce.h"
#include "text/safefile.h"

#define OUT_BUF (256u << 10)
#define OUT_DIRECT (16u << 10) /* pieces this large skip the buffer */

struct mr__output {
  int fd;
  int err;    /* the first failure's code, 0 while none */
  mr_buf why; /* and its message */
  int resumable;
  char *path; /* final name; NULL for stdout */
  char *tmp;  /* temporary name; NULL when writing in place */
  int dirfd;  /* the final name's directory, where the temporary is */
  const char *base, *tmp_base; /* the names in it */
  char *buf;
  size_t len;
  uint64_t size; /* bytes in the temporary, buffered ones included */
};

/* The failure of a call on o: the first one is kept, code and message. */
static int output_failed(mr__output *o, int errnum) {
  if (!o->err) {
    o->err = mr__error_file(&o->why, "write", mr__output_name(o), errnum);
  }
  return MR_EIO;
}

/* An open that failed with errnum: its code and message; o is freed. */
static int open_fail(mr__output *o, const char *path, int errnum, mr_buf *why) {
  int rc = mr__error_file(why, "write", path, errnum);
  if (o) {
    free(o->tmp);
    o->tmp = NULL; /* nothing of ours to remove */
    mr__output_free(o);
  }
  return rc;
}

int mr__output_open(const char *path, int resumable, uint64_t keep, mr__output **out,
                    mr_buf *why) {
  *out = NULL;
  mr__output *o = calloc(1, sizeof *o);
  if (o) o->dirfd = -1;
  if (!o || !(o->buf = malloc(OUT_BUF))) return open_fail(o, path, ENOMEM, why);
  mr__target t = {SAFEFILE_FD, 1, NULL};
  int rc = path && strcmp(path, "-") != 0 ? mr__safefile_target(path, "-o", &t, NULL) : 0;
  if (rc) /* a symlink not to follow, or out of memory */
    return open_fail(o, path, rc == MR_ENOMEM ? ENOMEM : EPERM, why);
  if (t.kind == SAFEFILE_FD) {
    mr__safefile_target_free(&t);
    if (t.fd == 1) { /* "-", /dev/stdout, /dev/fd/1: standard output */
      o->fd = 1;
      *out = o;
      return 0;
    }
    if (!(o->path = strdup(path))) return open_fail(o, path, ENOMEM, why);
    o->fd = fcntl(t.fd, F_DUPFD_CLOEXEC, 3); /* ours to close, theirs stays */
    if (o->fd < 0) return open_fail(o, path, errno, why);
    *out = o;
    return 0;
  }
  o->path = t.path;
  /* /dev/null, a FIFO or a terminal: write in place, never rename over it */
  if (t.kind == SAFEFILE_DEVICE) {
    o->fd = open(o->path, O_WRONLY | O_CLOEXEC);
    if (o->fd < 0) return open_fail(o, path, errno, why);
    *out = o;
    return 0;
  }
  /* a regular file, maybe through a symlink: the temporary goes beside the
   * file itself and replaces it, so the link stays a link */
  if ((o->dirfd = mr__safefile_dir(o->path, &o->base)) < 0)
    return open_fail(o, path, errno, why);
  size_t n = strlen(o->path) + 32;
  if (!(o->tmp = malloc(n))) return open_fail(o, path, ENOMEM, why);
  o->resumable = resumable;
  int fresh = !resumable || keep == UINT64_MAX;
  if (resumable) snprintf(o->tmp, n, "%s.partial", o->path);
  else snprintf(o->tmp, n, "%s.tmp.%ld", o->path, (long)getpid());
  o->tmp_base = o->tmp + (o->base - o->path);
  /* FILE.partial was not there when the run checked (else it would have
   * been refused or resumed): one there now is another run's, started at
   * the same instant, and removing it would lose that run's results */
  int mode = !fresh ? MR__FRESH_CONTINUE : resumable ? MR__FRESH_ONLY : MR__FRESH_REPLACE;
  o->fd = mr__safefile_open_derived(o->dirfd, o->tmp_base, mode, 0666);
  if (o->fd < 0 && errno == EEXIST && resumable) {
    if (why)
      mr_buf_printf(why, "%s appeared while this run started: another run is "
                         "starting on '%s'", o->tmp, path);
    free(o->tmp);
    o->tmp = NULL; /* the other run's, not ours to remove */
    mr__output_free(o);
    return MR_EEXIST;
  }
  if (o->fd < 0) return open_fail(o, path, errno, why);
  /* a file being replaced keeps its mode: a 0600 one is not readable by
   * others while the run lasts either */
  if (fresh) mr__safefile_copy_mode(o->fd, o->path, 0);
  if (keep != UINT64_MAX) { /* continue after what the journal vouches for */
    if (ftruncate(o->fd, (off_t)keep) != 0 || lseek(o->fd, 0, SEEK_END) < 0)
      return open_fail(o, path, errno, why);
    o->size = keep;
  }
  *out = o;
  return 0;
}

static int write_all(mr__output *o, const char *p, size_t n) {
  return mr__write_all(o->fd, p, n) ? output_failed(o, errno) : 0;
}

int mr__output_flush(mr__output *o) {
  if (o->err) return MR_EIO;
  if (!o->len) return 0;
  int rc = write_all(o, o->buf, o->len);
  o->len = 0;
  return rc;
}

/* The buffer, then p, in one system call. */
static int write_two(mr__output *o, const char *p, size_t n) {
  struct iovec v[2] = {{o->buf, o->len}, {(void *)(uintptr_t)p, n}};
  struct iovec *cur = o->len ? v : v + 1;
  int cnt = o->len ? 2 : 1;
  o->len = 0;
  while (cnt) {
    ssize_t w = writev(o->fd, cur, cnt);
    if (w < 0) {
      if (errno == EINTR) continue;
      return output_failed(o, errno);
    }
    size_t left = (size_t)w;
    for (; cnt && left >= cur->iov_len; cur++, cnt--) left -= cur->iov_len;
    if (cnt) { /* a short write: the rest of this piece */
      cur->iov_base = (char *)cur->iov_base + left;
      cur->iov_len -= left;
    }
  }
  return 0;
}

int mr__output_write(mr__output *o, const void *p, size_t n) {
  if (o->err) return MR_EIO;
  o->size += n;
  if (n < OUT_DIRECT && n <= OUT_BUF - o->len) {
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
  }
  /* a whole chunk's output goes from where it is, not through the buffer:
   * one copy fewer on the master, a system call per chunk */
  if (n >= OUT_DIRECT) return write_two(o, p, n);
  if (mr__output_flush(o)) return MR_EIO;
  memcpy(o->buf, p, n);
  o->len = n;
  return 0;
}

uint64_t mr__output_size(const mr__output *o) { return o->size; }

/* Flushes, syncs and closes the file (not stdout). */
static int output_close(mr__output *o) {
  int rc = mr__output_flush(o);
  if (!rc && o->tmp && fsync(o->fd) != 0) rc = output_failed(o, errno);
  if (o->fd > 2 && close(o->fd) != 0 && !rc) rc = output_failed(o, errno);
  o->fd = -1;
  return rc;
}

int mr__output_commit(mr__output *o) {
  if (o->tmp && o->fd >= 0) mr__safefile_copy_mode(o->fd, o->path, 1);
  int rc = output_close(o);
  if (!rc && o->tmp) {
    if (renameat(o->dirfd, o->tmp_base, o->dirfd, o->base) != 0) {
      rc = output_failed(o, errno);
    } else {
      free(o->tmp);
      o->tmp = NULL;
    }
  }
  return rc;
}

int mr__output_keep(mr__output *o) {
  int rc = output_close(o);
  o->resumable = 1; /* whatever happens next, it stays */
  return rc;
}

void mr__output_free(mr__output *o) {
  if (!o) return;
  if (o->fd > 2) close(o->fd);
  if (o->tmp && !o->resumable) unlinkat(o->dirfd, o->tmp_base, 0);
  if (o->dirfd >= 0) close(o->dirfd);
  free(o->tmp);
  free(o->path);
  free(o->buf);
  mr_buf_free(&o->why);
  free(o);
}

int mr__output_error(const mr__output *o) { return o->err; }
const char *mr__output_why(const mr__output *o) { return o->why.data ? o->why.data : ""; }
const char *mr__output_name(const mr__output *o) {
  return o->path ? o->path : "<stdout>";
}
const char *mr__output_temp(const mr__output *o) { return o->tmp; }
