/* output.c: buffered, atomic result output. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mapreduce.h"

#define OUT_BUF (256u << 10)

struct mr__output {
  int fd;
  int err;
  char *path; /* final name; NULL for stdout */
  char *tmp;  /* temporary name; NULL when writing in place */
  char *buf;
  size_t len;
};

mr__output *output_open(const char *path, int *err) {
  mr__output *o = calloc(1, sizeof *o);
  if (!o || !(o->buf = malloc(OUT_BUF))) {
    free(o);
    *err = ENOMEM;
    return NULL;
  }
  if (!path || strcmp(path, "-") == 0) {
    o->fd = 1;
    return o;
  }
  o->path = strdup(path);
  struct stat st;
  /* /dev/null, a FIFO or a terminal: write in place, never rename over it */
  int special = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
  if (special) {
    o->fd = open(path, O_WRONLY | O_CLOEXEC);
  } else {
    size_t n = strlen(path) + 32;
    o->tmp = malloc(n);
    if (o->path && o->tmp) {
      snprintf(o->tmp, n, "%s.tmp.%ld", path, (long)getpid());
      o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    } else {
      o->fd = -1;
      errno = ENOMEM;
    }
  }
  if (o->fd < 0) {
    *err = errno;
    free(o->tmp);
    o->tmp = NULL;
    output_free(o);
    return NULL;
  }
  return o;
}

static int write_all(mr__output *o, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(o->fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      o->err = errno;
      return MR_EIO;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int output_flush(mr__output *o) {
  if (o->err) return MR_EIO;
  if (!o->len) return 0;
  int rc = write_all(o, o->buf, o->len);
  o->len = 0;
  return rc;
}

int output_write(mr__output *o, const void *p, size_t n) {
  if (o->err) return MR_EIO;
  if (n <= OUT_BUF - o->len) {
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
  }
  if (output_flush(o)) return MR_EIO;
  if (n >= OUT_BUF / 2) return write_all(o, p, n);
  memcpy(o->buf, p, n);
  o->len = n;
  return 0;
}

int output_commit(mr__output *o) {
  int rc = output_flush(o);
  if (!rc && o->tmp && fsync(o->fd) != 0) {
    o->err = errno;
    rc = MR_EIO;
  }
  if (o->fd > 2 && close(o->fd) != 0 && !rc) {
    o->err = errno;
    rc = MR_EIO;
  }
  o->fd = -1;
  if (!rc && o->tmp) {
    if (rename(o->tmp, o->path) != 0) {
      o->err = errno;
      rc = MR_EIO;
    } else {
      free(o->tmp);
      o->tmp = NULL;
    }
  }
  return rc;
}

void output_free(mr__output *o) {
  if (!o) return;
  if (o->fd > 2) close(o->fd);
  if (o->tmp) unlink(o->tmp);
  free(o->tmp);
  free(o->path);
  free(o->buf);
  free(o);
}

int output_errno(const mr__output *o) { return o->err; }
const char *output_name(const mr__output *o) {
  return o->path ? o->path : "<stdout>";
}
const char *output_temp(const mr__output *o) { return o->tmp; }
