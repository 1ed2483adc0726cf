/* safefile.c: following a user's names no further than they meant. */
#include "text/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HOPS 40 /* as the kernel's ELOOP limit */

/* The directory part of path, "." when it has none (caller frees). */
static char *dir_of(const char *path, const char **base) {
  const char *slash = strrchr(path, '/');
  *base = slash ? slash + 1 : path;
  if (!slash) return strdup(".");
  if (slash == path) return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

/* The descriptor path stands for by name, or -1: /dev/stdin, /dev/stdout,
 * /dev/stderr, and N in a directory that is our own /proc/PID/fd (which
 * /dev/fd and /proc/self/fd both lead to). Such a name must not be opened:
 * that would open again, from the start, what the descriptor has open, or
 * not resolve at all (a pipe, a socket). */
static int std_descriptor(const char *path) {
  const char *base;
  char *dir = dir_of(path, &base);
  if (!dir) return -1;
  int fd = -1;
  char real[PATH_MAX], own[64];
  if (strcmp(dir, "/dev") == 0) {
    fd = strcmp(base, "stdin") == 0    ? 0
         : strcmp(base, "stdout") == 0 ? 1
         : strcmp(base, "stderr") == 0 ? 2
                                        : -1;
  } else if (*base && strlen(base) < 10 && strspn(base, "0123456789") == strlen(base) &&
             realpath(dir, real)) {
    snprintf(own, sizeof own, "/proc/%ld/fd", (long)getpid());
    if (strcmp(real, own) == 0) fd = atoi(base);
  }
  free(dir);
  return fd;
}

/* The kernel's protected_symlinks, and more: a link is followed when the
 * caller owns it, or root does and it is not in a sticky world-writable
 * directory of a third user. A link another user owns could point anywhere
 * the caller may write. */
static int link_trusted(const struct stat *link, const struct stat *dir) {
  uid_t me = geteuid();
  if (link->st_uid == me) return 1;
  if (link->st_uid != 0) return 0;
  int shared = (dir->st_mode & S_ISVTX) && (dir->st_mode & S_IWOTH);
  return !shared || dir->st_uid == 0 || dir->st_uid == me;
}

/* Where the symlink cur points: its text, relative to cur's directory.
 * NULL with errno. */
static char *link_next(const char *cur, const struct stat *st) {
  /* /proc's links say 0 for their size */
  size_t cap = (st->st_size > 0 ? (size_t)st->st_size : PATH_MAX) + 2;
  char *text = malloc(cap);
  if (!text) return NULL;
  ssize_t n = readlink(cur, text, cap - 1);
  if (n < 0 || (size_t)n == cap - 1) { /* or it grew since: not what we saw */
    free(text);
    if (n >= 0) errno = EAGAIN;
    return NULL;
  }
  text[n] = '\0';
  const char *slash = strrchr(cur, '/');
  if (text[0] == '/' || !slash) return text;
  size_t dlen = (size_t)(slash - cur) + 1, len = dlen + (size_t)n + 1;
  char *next = malloc(len);
  if (next) snprintf(next, len, "%.*s%s", (int)dlen, cur, text);
  free(text);
  return next;
}

int mr__safefile_target(const char *path, const char *opt, mr__target *t, mr_buf *why) {
  memset(t, 0, sizeof *t);
  t->fd = -1;
  char *cur = strdup(path);
  if (!cur) return MR_ENOMEM;
  for (int hop = 0; hop < MAX_HOPS; hop++) {
    struct stat st, dst;
    if ((t->fd = std_descriptor(cur)) >= 0) {
      t->kind = SAFEFILE_FD;
    } else if (lstat(cur, &st) != 0 || S_ISREG(st.st_mode)) {
      t->kind = SAFEFILE_FILE; /* or a name to create; opening it says why not */
    } else if (!S_ISLNK(st.st_mode)) {
      t->kind = SAFEFILE_DEVICE;
    } else {
      const char *base;
      char *dir = dir_of(cur, &base);
      int trusted = dir && stat(dir, &dst) == 0 && link_trusted(&st, &dst);
      free(dir);
      if (!trusted) {
        if (why)
          mr_buf_printf(why, "%s '%s': '%s' is a symlink owned by uid %ld%s; "
                             "refusing to follow it",
                        opt, path, cur, (long)st.st_uid,
                        st.st_uid == 0 ? " in a sticky directory of another user"
                                       : ", not by you or root");
        free(cur);
        return MR_EINVAL;
      }
      char *next = link_next(cur, &st);
      int e = errno;
      if (!next && e != ENOMEM && why)
        mr_buf_printf(why, "%s '%s': cannot read the symlink '%s': %s", opt, path,
                      cur, strerror(e));
      free(cur);
      if (!next) return e == ENOMEM ? MR_ENOMEM : MR_EIO;
      cur = next;
      continue;
    }
    t->path = cur;
    return 0;
  }
  if (why) mr_buf_printf(why, "%s '%s': too many levels of symlinks", opt, path);
  free(cur);
  return MR_EINVAL;
}

void mr__safefile_target_free(mr__target *t) {
  free(t->path);
  t->path = NULL;
}

int mr__safefile_dir(const char *path, const char **base) {
  char *dir = dir_of(path, base);
  if (!dir) return -1;
  int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int e = errno;
  free(dir);
  errno = e;
  return fd;
}

static const char *foreign(const struct stat *st) {
  if (S_ISLNK(st->st_mode)) return "is a symlink";
  if (!S_ISREG(st->st_mode)) return "is not a regular file";
  if (st->st_uid != geteuid()) return "belongs to another user";
  /* where protected_hardlinks is off, a link to a file of ours elsewhere */
  if (st->st_nlink > 1) return "has another name (a hard link)";
  return NULL;
}

const char *mr__safefile_foreign(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 ? foreign(&st) : NULL;
}

int mr__safefile_open_derived(int dirfd, const char *name, int fresh, mode_t mode) {
  struct stat st;
  int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC;
  if (fresh) {
    if (fresh == MR__FRESH_REPLACE && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (foreign(&st)) {
        errno = EPERM;
        return -1;
      }
      if (unlinkat(dirfd, name, 0) != 0) return -1;
    }
    return openat(dirfd, name, flags | O_CREAT | O_EXCL, mode);
  }
  int fd = openat(dirfd, name, flags);
  if (fd < 0 && errno == ENOENT) /* gone (a journal without its partial) */
    return openat(dirfd, name, flags | O_CREAT | O_EXCL, mode);
  if (fd >= 0 && (fstat(fd, &st) != 0 || foreign(&st))) {
    close(fd);
    errno = EPERM;
    return -1;
  }
  return fd;
}

int mr__safefile_open_beside(const char *path, int fresh, mode_t mode) {
  const char *base;
  int dirfd = mr__safefile_dir(path, &base);
  if (dirfd < 0) return -1;
  int fd = mr__safefile_open_derived(dirfd, base, fresh, mode);
  int e = errno;
  close(dirfd);
  errno = e;
  return fd;
}

void mr__safefile_copy_mode(int fd, const char *final_path, int exact) {
  struct stat st;
  if (lstat(final_path, &st) != 0 || !S_ISREG(st.st_mode)) return;
  /* never the set-id bits: the owner changes to the caller */
  mode_t mode = st.st_mode & 0777;
  /* group first: a chown may clear bits the chmod sets. It fails when the
   * caller is not in the group; then, as vim does, the group may do what
   * others may, so no group is let in that was not before */
  struct stat now;
  if (fchown(fd, (uid_t)-1, st.st_gid) != 0 && fstat(fd, &now) == 0 &&
      now.st_gid != st.st_gid)
    mode = (mode & 0707) | ((mode & 07) << 3);
  if (!exact) mode |= S_IRUSR | S_IWUSR; /* a resume opens it again */
  if (fchmod(fd, mode) != 0) {
  }
}

static void id_from_stat(const struct stat *st, mr__fileid *id) {
  if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode)) return;
  id->kind = 1;
  id->dev = st->st_dev;
  id->ino = st->st_ino;
}

void mr__safefile_id(const char *path, mr__fileid *id) {
  memset(id, 0, sizeof *id);
  struct stat st;
  if (stat(path, &st) == 0) {
    id_from_stat(&st, id);
    return;
  }
  const char *base;
  char *dir = dir_of(path, &base);
  if (dir && stat(dir, &st) == 0 && strlen(base) < sizeof id->name) {
    id->kind = 2;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    strcpy(id->name, base);
  }
  free(dir);
}

void mr__safefile_id_fd(int fd, mr__fileid *id) {
  memset(id, 0, sizeof *id);
  struct stat st;
  if (fstat(fd, &st) == 0) id_from_stat(&st, id);
}

int mr__safefile_same(const mr__fileid *a, const mr__fileid *b) {
  return a->kind && a->kind == b->kind && a->dev == b->dev && a->ino == b->ino &&
         strcmp(a->name, b->name) == 0;
}
