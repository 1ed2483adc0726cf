/* joblog.c: GNU parallel's --joblog format. */
#include "text/joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/io.h"

#define HEADER "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"

struct mr__joblog {
  char *path; /* for messages */
  int fd;
  off_t opened_size; /* what mr__joblog_rollback goes back to */
  mr_buf pending;
};

/* The size of the file without a last line cut short (a kill, a full disk):
 * appending after such a line would glue the next record to it. */
static off_t whole_lines(int fd, off_t size) {
  char b[4096];
  off_t end = size;
  while (end > 0) {
    size_t n = end < (off_t)sizeof b ? (size_t)end : sizeof b;
    ssize_t r = pread(fd, b, n, end - (off_t)n);
    if (r < 0 && errno == EINTR) continue;
    if (r != (ssize_t)n) return MR_EIO; /* errno, or a file cut meanwhile */
    for (size_t i = n; i > 0; i--)
      if (b[i - 1] == '\n') return end - (off_t)(n - i);
    end -= (off_t)n;
  }
  return 0;
}

int mr__joblog_open(const char *path, int append, mr__joblog **out, mr_buf *why) {
  *out = NULL;
  mr__joblog *jl = calloc(1, sizeof *jl);
  if (!jl || !(jl->path = strdup(path))) {
    free(jl);
    return mr__error_file(why, "write", path, ENOMEM);
  }
  jl->fd = open(path, (append ? O_RDWR | O_APPEND : O_WRONLY | O_TRUNC) | O_CREAT | O_CLOEXEC,
                0666);
  struct stat st;
  if (jl->fd < 0 || fstat(jl->fd, &st) != 0 ||
      (S_ISREG(st.st_mode) && st.st_size &&
       ((jl->opened_size = whole_lines(jl->fd, st.st_size)) < 0 ||
        (jl->opened_size < st.st_size && ftruncate(jl->fd, jl->opened_size) != 0)))) {
    int rc = mr__error_file(why, "write", path, errno);
    mr__joblog_free(jl);
    return rc;
  }
  if (jl->opened_size == 0) mr_buf_puts(&jl->pending, HEADER);
  *out = jl;
  return mr__joblog_sync(jl, why);
}

int mr__joblog_rollback(mr__joblog *jl) {
  jl->pending.len = 0;
  return ftruncate(jl->fd, jl->opened_size) != 0 ? MR_EIO : 0;
}

int mr__joblog_add(mr__joblog *jl, uint64_t seq, const char *host, double start,
               double runtime, uint64_t received, int exitval, int sig,
               const char *cmd, size_t cmdlen) {
  mr_buf *b = &jl->pending;
  mr_buf_printf(b, "%" PRIu64 "\t%s\t%.3f\t%10.3f\t0\t%" PRIu64 "\t%d\t%d\t", seq + 1,
                host, start, runtime, received, exitval, sig);
  /* a command is one line: newlines in a template are written as \n */
  for (size_t i = 0; i < cmdlen; i++) {
    if (cmd[i] == '\n') mr_buf_append(b, "\\n", 2);
    else mr_buf_append(b, &cmd[i], 1);
  }
  return mr_buf_append(b, "\n", 1);
}

int mr__joblog_sync(mr__joblog *jl, mr_buf *why) {
  if (jl->pending.len && mr__write_all(jl->fd, jl->pending.data, jl->pending.len))
    return mr__error_file(why, "write", jl->path, errno);
  jl->pending.len = 0;
  return 0;
}

void mr__joblog_free(mr__joblog *jl) {
  if (!jl) return;
  if (jl->fd >= 0) close(jl->fd);
  mr_buf_free(&jl->pending);
  free(jl->path);
  free(jl);
}

int mr__joblog_load(const char *path, mr__jrec **recs, size_t *n, mr_buf *why) {
  *recs = NULL;
  *n = 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errno == ENOENT) return 0;
    return mr__error_file(why, "read", path, errno);
  }
  char *line = NULL;
  size_t cap = 0, have = 0;
  ssize_t len;
  mr__jrec *r = NULL;
  int rc = 0;
  while ((len = getline(&line, &cap, f)) > 0) {
    if (line[len - 1] != '\n') break; /* cut short by a kill */
    line[--len] = '\0';
    /* Seq Host Start Runtime Send Receive Exitval Signal Command */
    char *field[9];
    int k = 0;
    char *p = line;
    for (; k < 8; k++) {
      field[k] = p;
      char *tab = strchr(p, '\t');
      if (!tab) break;
      *tab = '\0';
      p = tab + 1;
    }
    if (k < 8) continue; /* the header, or not a record */
    field[8] = p;
    char *end;
    uint64_t seq = strtoull(field[0], &end, 10);
    if (*end || seq == 0) continue;
    if (*n == have) {
      have = have ? 2 * have : 256;
      mr__jrec *g = realloc(r, have * sizeof *g);
      if (!g) {
        rc = MR_ENOMEM;
        break;
      }
      r = g;
    }
    int failed = atoi(field[6]) != 0 || atoi(field[7]) != 0;
    uint64_t h = mr__doneset_hash(field[8], strlen(field[8]));
    r[*n] = (mr__jrec){seq - 1, seq, 0, 0, h, h, failed ? MR_EJOB : 0, (uint32_t)*n};
    (*n)++;
  }
  free(line);
  fclose(f);
  if (rc) {
    free(r);
    *n = 0;
    return rc;
  }
  *recs = r;
  return 0;
}
