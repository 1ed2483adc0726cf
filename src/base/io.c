/* io.c: small system-call helpers. */
#include "base/io.h"

#include <errno.h>
#include <unistd.h>

#include "mapreduce.h"

int mr__write_all(int fd, const void *data, size_t n) {
  const char *p = data;
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return MR_EIO;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}
