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

mr__obsfile *mr__obsfile_open(const char *path, mr_buf *why) {
  mr__obsfile *f = calloc(1, sizeof *f);
  if (!f || !(f->path = strdup(path))) {
    free(f);
    mr_buf_puts(why, mr_strerror(MR_ENOMEM));
    return NULL;
  }
  const char *base;
  f->dirfd = mr__safefile_dir(path, &base);
  if (f->dirfd < 0) {
    mr_buf_printf(why, "cannot write '%s': %s", path, strerror(errno));
    f->dirfd = -1;
    mr__obsfile_abort(f);
    return NULL;
  }
  f->base = f->path + (base - path);
  if (strlen(f->base) > 200) {
    mr_buf_printf(why, "cannot write '%s': its name is too long", path);
    mr__obsfile_abort(f);
    return NULL;
  }
  snprintf(f->tmp, sizeof f->tmp, ".%s.tmp.%ld", f->base, (long)getpid());
  unlinkat(f->dirfd, f->tmp, 0); /* a stale one of this pid's, from a crash */
  int fd = openat(f->dirfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0644);
  if (fd < 0) {
    mr_buf_printf(why, "cannot write '%s': %s", path, strerror(errno));
    f->tmp[0] = '\0';
    mr__obsfile_abort(f);
    return NULL;
  }
  f->f = fdopen(fd, "w");
  if (!f->f) {
    close(fd);
    mr_buf_printf(why, "cannot write '%s': %s", path, strerror(errno));
    mr__obsfile_abort(f);
    return NULL;
  }
  return f;
}

FILE *mr__obsfile_stream(mr__obsfile *f) { return f->f; }

int mr__obsfile_commit(mr__obsfile *f, mr_buf *why) {
  int bad = ferror(f->f);
  int e = bad ? EIO : 0;
  if (fclose(f->f) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  f->f = NULL;
  if (!bad && renameat(f->dirfd, f->tmp, f->dirfd, f->base) != 0) {
    bad = 1;
    e = errno;
  }
  if (!bad) f->tmp[0] = '\0'; /* in place: nothing to remove */
  if (bad && why) mr_buf_printf(why, "cannot write '%s': %s", f->path, strerror(e));
  mr__obsfile_abort(f);
  return bad ? MR_EIO : 0;
}

int mr__obsfile_write(const char *path, const char *data, size_t len, mr_buf *why) {
  mr__obsfile *f = mr__obsfile_open(path, why);
  if (!f) return MR_EIO;
  if (len) fwrite(data, 1, len, f->f);
  return mr__obsfile_commit(f, why);
}
