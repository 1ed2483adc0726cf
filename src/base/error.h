/* error.h: turning a system call's errno into an mr_error code, where the
 * call failed (the convention is written in include/mapreduce.h). */
#ifndef MR_ERROR_H
#define MR_ERROR_H
#include "mapreduce.h"

/* The MR_E... code for errnum (a failed call's errno): MR_ENOENT,
 * MR_EACCES, MR_ENOSPC, MR_EEXIST, MR_EINTR, MR_EAGAIN, MR_EPIPE,
 * MR_ENOMEM, MR_EINVAL, MR_ERANGE, MR_ETIMEDOUT; MR_EIO for any other,
 * and for 0 (a failure that left no errno is still a failure). Never
 * MR_OK. */
int mr__error_from_errno(int errnum);

/* A call on the file path failed with errnum: writes "cannot VERB 'PATH':
 * <strerror>" to why (when not NULL), the message every layer gives for a
 * file it cannot read or write, and returns mr__error_from_errno(errnum). */
int mr__error_file(mr_buf *why, const char *verb, const char *path, int errnum);
#endif
