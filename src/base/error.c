/* error.c: text for the enum mr_error codes, and the code for an errno. */
#include <errno.h>
#include <string.h>
#include "base/error.h"

int mr__error_file(mr_buf *why, const char *verb, const char *path, int errnum) {
  if (why) mr_buf_printf(why, "cannot %s '%s': %s", verb, path, strerror(errnum));
  return mr__error_from_errno(errnum);
}

int mr__error_from_errno(int errnum) {
  switch (errnum) {
  case ENOENT:
  case ENOTDIR: return MR_ENOENT;
  case EACCES:
  case EPERM:
  case EROFS: return MR_EACCES;
  case ENOSPC:
  case EDQUOT:
  case EFBIG: return MR_ENOSPC;
  case EEXIST: return MR_EEXIST;
  case EINTR: return MR_EINTR;
#if EWOULDBLOCK != EAGAIN
  case EWOULDBLOCK:
#endif
  case EAGAIN: return MR_EAGAIN;
  case EPIPE: return MR_EPIPE;
  case ENOMEM: return MR_ENOMEM;
  case EINVAL: return MR_EINVAL;
  case ERANGE:
  case EOVERFLOW: return MR_ERANGE;
  case ETIMEDOUT: return MR_ETIMEDOUT;
  default: return MR_EIO;
  }
}

const char *mr_strerror(int err) {
  switch (err) {
  case MR_OK: return "success";
  case MR_EINVAL: return "invalid item";
  case MR_ENOMEM: return "out of memory";
  case MR_EIO: return "input/output error";
  case MR_ERANGE: return "value out of range";
  case MR_ETIMEDOUT: return "timed out";
  case MR_ECRASH: return "job crashed";
  case MR_EJOB: return "job failed";
  case MR_EMPI: return "MPI failure";
  case MR_ENOENT: return "not found";
  case MR_EABI: return "plugin ABI version mismatch";
  case MR_ETOOLONG: return "line too long";
  case MR_ENUL: return "NUL byte in line";
  case MR_EINTR: return "interrupted";
  case MR_EEXIT: return "command failed";
  case MR_ESIGNAL: return "command killed by a signal";
  case MR_ESKIPPED: return "not run: the run was halted";
  case MR_EACCES: return "permission denied";
  case MR_ENOSPC: return "no space left on device";
  case MR_EEXIST: return "already exists";
  case MR_EAGAIN: return "busy, try again";
  case MR_EPIPE: return "the reader went away";
  default: return "unknown error";
  }
}
