/* obsfile.c: the report files (--status, --trace, --timeline,
 * --stats-json), replaced whole: written as a temporary file in their
 * directory (created exclusively, never through a symlink) and renamed
 * over the name, so a reader sees a whole document or the one before. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "obs/obs.h"
#include "text/safefile.h"

struct mr__obsfile {
  int dirfd;
  char *path; /* as given, for messages */
  char *base; /* the last component */
  char tmp[300];
  FILE *f;
};

int mr__obsfile_check(const char *path, const char *opt, mr_buf *why) {
  struct stat st;
  if (!*path) {
    mr_buf_printf(why, "%s needs a file name", opt);
    return MR_EINVAL;
  }
  if (lstat(path, &st) != 0) return 0; /* a name to create */
  if (S_ISLNK(st.st_mode)) {
    mr_buf_printf(why, "%s '%s' is a symlink; name the file itself (it is replaced "
                       "whole, never written through a link)", opt, path);
    return MR_EINVAL;
  }
  if (!S_ISREG(st.st_mode)) {
    mr_buf_printf(why, "%s '%s' is not a regular file", opt, path);
    return MR_EINVAL;
  }
  return 0;
}

void mr__obsfile_abort(mr__obsfile *f) {
  if (!f) return;
  if (f->f) fclose(f->f);
  if (f->tmp[0]) unlinkat(f->dirfd, f->tmp, 0);
  if (f->dirfd >= 0) close(f->dirfd);
  free(f->path);
  free(f);
}

int mr__obsfile_open(const char *path, mr__obsfile **out, mr_buf *why) {
  *out = NULL;
  mr__obsfile *f = calloc(1, sizeof *f);
  if (!f || !(f->path = strdup(path))) {
    free(f);
    return MR_ENOMEM;
  }
  const char *base;
  f->dirfd = mr__safefile_dir(path, &base);
  if (f->dirfd < 0) {
    int rc = mr__error_file(why, "write", path, errno);
    f->dirfd = -1;
    mr__obsfile_abort(f);
    return rc;
  }
  f->base = f->path + (base - path);
  if (strlen(f->base) > 200) {
    mr__obsfile_abort(f);
    return mr__error_file(why, "write", path, ENAMETOOLONG);
  }
  snprintf(f->tmp, sizeof f->tmp, ".%s.tmp.%ld", f->base, (long)getpid());
  unlinkat(f->dirfd, f->tmp, 0); /* a stale one of this pid's, from a crash */
  int fd = openat(f->dirfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0644);
  if (fd < 0) {
    int rc = mr__error_file(why, "write", path, errno);
    f->tmp[0] = '\0';
    mr__obsfile_abort(f);
    return rc;
  }
  f->f = fdopen(fd, "w");
  if (!f->f) {
    int rc = mr__error_file(why, "write", path, errno);
    close(fd);
    mr__obsfile_abort(f);
    return rc;
  }
  *out = f;
  return 0;
}

FILE *mr__obsfile_stream(mr__obsfile *f) { return f->f; }

int mr__obsfile_commit(mr__obsfile *f, mr_buf *why) {
  int e = ferror(f->f) ? EIO : 0;
  if (fclose(f->f) != 0 && !e) e = errno ? errno : EIO;
  f->f = NULL;
  if (!e && renameat(f->dirfd, f->tmp, f->dirfd, f->base) != 0) e = errno;
  if (!e) f->tmp[0] = '\0'; /* in place: nothing to remove */
  int rc = e ? mr__error_file(why, "write", f->path, e) : 0;
  mr__obsfile_abort(f);
  return rc;
}

int mr__obsfile_write(const char *path, const char *data, size_t len, mr_buf *why) {
  mr__obsfile *f;
  int rc = mr__obsfile_open(path, &f, why);
  if (rc) return rc;
  if (len) fwrite(data, 1, len, f->f);
  return mr__obsfile_commit(f, why);
}
