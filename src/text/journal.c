/* journal.c: FILE.journal, the record of what FILE.partial holds. */
#include "text/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/io.h"
#include "text/safefile.h"

#define MAGIC "mapreduce journal 2\n"
#define MAGIC_ANY "mapreduce journal " /* of another version */

struct mr__journal {
  char *path;
  int fd;
  int lock_fd; /* a resume's hold on the journal it read, for the whole run */
  mr__jrec *recs; /* every record, in file (= output) order */
  size_t n, cap;
  uint64_t out_size;
  uint64_t valid_bytes; /* of the journal file, when loaded */
  uint64_t loaded_out;  /* out_size when loaded */
  int started;          /* by mr__journal_start: nothing was there before */
  mr_buf pending;
  mr__doneset done;
  int done_built;
};

static char *journal_name(const char *out_path) {
  size_t n = strlen(out_path) + 16;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s.journal", out_path);
  return p;
}

const char *mr__journal_path(const mr__journal *j) { return j->path; }
uint64_t mr__journal_out_size(const mr__journal *j) { return j->out_size; }

static void put_escaped(mr_buf *b, const char *s) {
  for (; *s; s++) {
    if (*s == '\\') mr_buf_puts(b, "\\\\");
    else if (*s == '\n') mr_buf_puts(b, "\\n");
    else mr_buf_append(b, s, 1);
  }
}

static int push(mr__journal *j, const mr__jrec *r) {
  if (j->n == j->cap) {
    size_t cap = j->cap ? 2 * j->cap : 256;
    mr__jrec *p = realloc(j->recs, cap * sizeof *p);
    if (!p) return MR_ENOMEM;
    j->recs = p;
    j->cap = cap;
  }
  j->recs[j->n] = *r;
  j->recs[j->n].order = (uint32_t)j->n;
  j->n++;
  return 0;
}

static mr__journal *journal_new(const char *out_path) {
  mr__journal *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->fd = j->lock_fd = -1;
  if (!(j->path = journal_name(out_path))) {
    free(j);
    return NULL;
  }
  return j;
}

void mr__journal_free(mr__journal *j) {
  if (!j) return;
  if (j->fd >= 0) close(j->fd);
  if (j->lock_fd >= 0) close(j->lock_fd);
  free(j->path);
  free(j->recs);
  mr_buf_free(&j->pending);
  mr__doneset_free(&j->done);
  free(j);
}

/* Reads the whole journal file into b, holding it: *lock is the descriptor
 * that keeps an exclusive flock on it (caller closes). MR_ENOENT when there
 * is none; MR_EAGAIN when another run holds it (why is left to the caller
 * for both); another failure's code with why saying "cannot read 'PATH':
 * <reason>". Two runs on one -o FILE (a batch job submitted twice) would
 * each rewrite the partial file and rename it into place; the second is
 * refused instead. */
static int slurp(const char *path, mr_buf *b, int *lock, mr_buf *why) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno == ENOENT ? MR_ENOENT : mr__error_file(why, "read", path, errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd);
    return e == EWOULDBLOCK ? MR_EAGAIN : mr__error_file(why, "read", path, e);
  }
  for (;;) {
    if (mr_buf_reserve(b, 65536)) {
      close(fd);
      return mr__error_file(why, "read", path, ENOMEM);
    }
    ssize_t r = read(fd, b->data + b->len, b->cap - b->len - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      return mr__error_file(why, "read", path, e);
    }
    if (r == 0) break;
    b->len += (size_t)r;
  }
  b->data[b->len] = '\0';
  *lock = fd;
  return 0;
}

static void in_progress(const char *jpath, mr_buf *why) {
  mr_buf_printf(why, "'%s' belongs to a run still in progress (another "
                     "mapreduce holds it): let that run end, then --resume "
                     "if it stopped", jpath);
}

/* 1 when a run holds the journal at jpath (its flock), 0 otherwise. */
static int held(const char *jpath) {
  int fd = open(jpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return 0;
  int busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);
  return busy;
}

/* Parses one record line (without its newline); 0 when well-formed. */
static int parse_record(const char *line, uint64_t out_end_before, mr__jrec *r) {
  memset(r, 0, sizeof *r);
  char kind;
  int used = 0;
  if (line[0] == 'R') {
    if (sscanf(line, "%c %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNx64 " %" SCNx64 "%n",
               &kind, &r->seq, &r->end, &r->out_end, &r->h_first, &r->h_all,
               &used) != 6 || line[used] || r->end <= r->seq ||
        r->out_end < out_end_before)
      return -1;
    r->out_begin = out_end_before;
    return 0;
  }
  if (line[0] == 'F') {
    int32_t st;
    if (sscanf(line, "%c %" SCNu64 " %" SCNd32 " %" SCNx64 "%n", &kind, &r->seq,
               &st, &r->h_first, &used) != 4 || line[used] || st >= 0)
      return -1;
    r->end = r->seq + 1;
    r->status = st;
    r->h_all = r->h_first;
    r->out_begin = r->out_end = out_end_before;
    return 0;
  }
  return -1;
}

int mr__journal_load(const char *path, const char *spec, uint64_t partial_size,
                 mr__journal **out, mr_buf *why) {
  *out = NULL;
  mr_buf b = {0}, want = {0};
  int rc;
  char *jpath = journal_name(path);
  if (!jpath) return MR_ENOMEM;
  int lock = -1;
  rc = slurp(jpath, &b, &lock, why);
  if (rc == MR_ENOENT) { /* nothing to resume */
    free(jpath);
    mr_buf_free(&b);
    return 0;
  }
  if (rc == MR_EAGAIN) {
    in_progress(jpath, why);
    free(jpath);
    mr_buf_free(&b);
    return MR_EINVAL;
  }
  if (rc) { /* why says it */
    free(jpath);
    mr_buf_free(&b);
    return rc;
  }
  mr_buf_puts(&want, "job ");
  put_escaped(&want, spec);
  mr_buf_puts(&want, "\n");
  size_t magic = strlen(MAGIC);
  if (b.len < magic || memcmp(b.data, MAGIC, magic) != 0) {
    if (strncmp(b.data, MAGIC_ANY, strlen(MAGIC_ANY)) == 0)
      mr_buf_printf(why, "'%s' was written by another version of mapreduce: "
                         "resume with that version, or remove %s.partial and "
                         "'%s' to start over", jpath, path, jpath);
    else
      mr_buf_printf(why, "'%s' is not a mapreduce journal", jpath);
    rc = MR_EINVAL;
  } else if (b.len < magic + want.len ||
             memcmp(b.data + magic, want.data, want.len) != 0) {
    const char *line = b.data + magic, *nl = strchr(line, '\n');
    mr_buf_printf(why, "'%s' belongs to another job (%.*s); the results so far "
                       "are in %s.partial",
                  jpath, nl ? (int)(nl - line) : 0, line, path);
    rc = MR_EINVAL;
  }
  mr__journal *j = NULL;
  if (!rc && !(j = journal_new(path))) rc = MR_ENOMEM;
  if (!rc) {
    j->lock_fd = lock;
    lock = -1;
    char *p = b.data + magic + want.len;
    j->valid_bytes = (uint64_t)(p - b.data);
    while (*p) {
      char *nl = strchr(p, '\n');
      if (!nl) break; /* a record cut short by a kill */
      *nl = '\0';
      mr__jrec r;
      if (parse_record(p, j->out_size, &r) || r.out_end > partial_size) break;
      if ((rc = push(j, &r)) != 0) break;
      j->out_size = r.out_end;
      p = nl + 1;
      j->valid_bytes = (uint64_t)(p - b.data);
    }
  }
  free(jpath);
  mr_buf_free(&b);
  mr_buf_free(&want);
  if (lock >= 0) close(lock);
  if (rc) {
    mr__journal_free(j);
    return rc;
  }
  j->loaded_out = j->out_size;
  *out = j;
  return 0;
}

int mr__journal_start(const char *path, const char *spec, mr__journal **out, mr_buf *why) {
  mr__journal *j = journal_new(path);
  if (!j) {
    if (why) mr_buf_printf(why, "cannot write '%s.journal': %s", path, strerror(ENOMEM));
    return MR_ENOMEM; /* no name to give mr__error_file: it is what failed */
  }
  /* a stale journal is replaced, but never one a run holds: removing it
   * would let two runs write one FILE.partial */
  if (held(j->path)) {
    in_progress(j->path, why);
    mr__journal_free(j);
    return MR_EAGAIN;
  }
  j->fd = mr__safefile_open_beside(j->path, 1, 0666); /* never through a planted link */
  mr_buf_puts(&j->pending, MAGIC "job ");
  put_escaped(&j->pending, spec);
  mr_buf_puts(&j->pending, "\n");
  j->started = 1;
  /* held for the whole run, so a --resume started meanwhile is refused */
  if (j->fd >= 0 && flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
    close(j->fd);
    j->fd = -1;
  }
  int rc = j->fd < 0 ? mr__error_file(why, "write", j->path, errno) : mr__journal_sync(j, why);
  if (rc) {
    if (j->fd >= 0) unlink(j->path); /* a failed start leaves nothing */
    mr__journal_free(j);
    return rc;
  }
  *out = j;
  return 0;
}

int mr__journal_resume(mr__journal *j, mr_buf *why) {
  /* cut what a kill left half-written, then append after it */
  j->fd = mr__safefile_open_beside(j->path, 0, 0);
  if (j->fd < 0 || ftruncate(j->fd, (off_t)j->valid_bytes) != 0 ||
      lseek(j->fd, 0, SEEK_END) < 0)
    return mr__error_file(why, "write", j->path, errno);
  return 0;
}

mr__doneset *mr__journal_done(mr__journal *j) {
  if (!j->done_built) {
    if (mr__doneset_build(&j->done, j->recs, j->n)) return NULL;
    j->done_built = 1;
  }
  return &j->done;
}

int mr__journal_result(mr__journal *j, uint64_t seq, uint64_t end, uint64_t out_end,
                   uint64_t h_first, uint64_t h_all) {
  mr__jrec r = {seq, end, j->out_size, out_end, h_first, h_all, 0, 0};
  if (push(j, &r)) return MR_ENOMEM;
  j->out_size = out_end;
  return mr_buf_printf(&j->pending, "R %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIx64
                                    " %" PRIx64 "\n",
                       seq, end, out_end, h_first, h_all);
}

int mr__journal_failure(mr__journal *j, uint64_t seq, int status, uint64_t hash) {
  mr__jrec r = {seq, seq + 1, j->out_size, j->out_size, hash, hash, status, 0};
  if (push(j, &r)) return MR_ENOMEM;
  return mr_buf_printf(&j->pending, "F %" PRIu64 " %d %" PRIx64 "\n", seq, status,
                       hash);
}

/* Writes the pending records: 0, or the errno of the failed write (for the
 * caller's message: mr__journal_complete names another file). */
static int pending_write(mr__journal *j) {
  if (j->pending.len && mr__write_all(j->fd, j->pending.data, j->pending.len)) return errno;
  j->pending.len = 0;
  return 0;
}

int mr__journal_sync(mr__journal *j, mr_buf *why) {
  int e = pending_write(j);
  return e ? mr__error_file(why, "write", j->path, e) : 0;
}

void mr__journal_remove(mr__journal *j) {
  if (j) unlink(j->path);
}

int mr__journal_rollback(mr__journal *j, const char *partial) {
  j->pending.len = 0;
  if (j->started) {
    unlink(partial);
    mr__journal_remove(j);
    return 0;
  }
  int rc = truncate(partial, (off_t)j->loaded_out) != 0 ? MR_EIO : 0;
  if (j->fd >= 0 && ftruncate(j->fd, (off_t)j->valid_bytes) != 0) rc = MR_EIO;
  return rc;
}

/* Copies bytes [from, to) of in to out: 0, or the errno of the failed call
 * for mr__journal_complete's message (EIO for a partial file cut short). */
static int copy_range(int in, int out, uint64_t from, uint64_t to, mr_buf *buf) {
  if (mr_buf_reserve(buf, 1u << 20)) return ENOMEM;
  while (from < to) {
    size_t want = to - from < (1u << 20) ? (size_t)(to - from) : (1u << 20);
    ssize_t r = pread(in, buf->data, want, (off_t)from);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return r < 0 ? errno : EIO;
    if (mr__write_all(out, buf->data, (size_t)r)) return errno;
    from += (uint64_t)r;
  }
  return 0;
}

int mr__journal_complete(mr__journal *j, const char *partial, const char *final_path,
                     int unordered, mr_buf *why) {
  /* every failure here is told as one of writing the final file */
  int e = pending_write(j);
  if (e) return mr__error_file(why, "write", final_path, e);
  mr__doneset_free(&j->done);
  j->done_built = 0;
  mr__doneset *d = mr__journal_done(j);
  if (!d) return mr__error_file(why, "write", final_path, ENOMEM);
  /* already in input order? then the partial file is the result */
  int in_order = 1;
  uint64_t at = 0;
  for (size_t i = 0; i < d->n && in_order; i++) {
    if (d->r[i].status) continue;
    in_order = d->r[i].out_begin == at;
    at = d->r[i].out_end;
  }
  in_order = in_order && at == j->out_size;
  int rc = 0;
  if (unordered || in_order) {
    int fd = mr__safefile_open_beside(partial, 0, 0);
    if (fd >= 0) mr__safefile_copy_mode(fd, final_path, 1); /* the file it replaces */
    e = 0;
    if (fd < 0 || ftruncate(fd, (off_t)j->out_size) || fsync(fd)) e = errno;
    if (fd >= 0) close(fd);
    if (!e && rename(partial, final_path) != 0) e = errno;
    if (e) rc = mr__error_file(why, "write", final_path, e);
  } else {
    size_t n = strlen(final_path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return mr__error_file(why, "write", final_path, ENOMEM);
    snprintf(tmp, n, "%s.tmp.%ld", final_path, (long)getpid());
    int in = open(partial, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    e = in < 0 ? errno : 0;
    int out = mr__safefile_open_beside(tmp, 1, 0666);
    if (out < 0 && !e) e = errno;
    if (out >= 0) mr__safefile_copy_mode(out, final_path, 1);
    mr_buf buf = {0};
    for (size_t i = 0; i < d->n && !e; i++)
      if (!d->r[i].status) e = copy_range(in, out, d->r[i].out_begin, d->r[i].out_end, &buf);
    if (!e && fsync(out)) e = errno;
    if (in >= 0) close(in);
    if (out >= 0 && close(out) && !e) e = errno;
    if (!e && rename(tmp, final_path) != 0) e = errno;
    if (!e) unlink(partial);
    else unlink(tmp);
    free(tmp);
    mr_buf_free(&buf);
    if (e) rc = mr__error_file(why, "write", final_path, e);
  }
  if (!rc) mr__journal_remove(j);
  return rc;
}
