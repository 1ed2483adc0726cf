/* error.c: text for the enum mr_error codes. */
#include "mapreduce.h"

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
  default: return "unknown error";
  }
}
