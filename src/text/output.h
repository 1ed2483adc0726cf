/* output.h: where results go. A file is written as a temporary beside it
 * and renamed over it only when the run commits, so a killed run never leaves
 * a half-written file under the final name. Standard output is written
 * through a buffer that is flushed whenever the master has nothing to do. */
#ifndef MR_OUTPUT_H
#define MR_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include "mapreduce.h"

typedef struct mr__output mr__output;

/* path NULL or "-": standard output; a device or FIFO is written in place.
 * Otherwise the results go to a temporary beside path: "PATH.partial" when
 * resumable (kept when the run does not finish; an existing one is
 * continued from byte `keep`, the rest cut off; keep UINT64_MAX starts it
 * empty), else "PATH.tmp.PID" (removed unless committed). 0 with *out set,
 * or the failure's code (mr__error_from_errno: MR_ENOENT, MR_EACCES for a
 * symlink not to follow, ...) with why (if not NULL) saying "cannot write
 * 'PATH': <reason>". */
int mr__output_open(const char *path, int resumable, uint64_t keep, mr__output **out,
                    mr_buf *why);
/* A writer fails later in its life, far from who opened it: it keeps its
 * first failure, every call after it returns MR_EIO, and mr__output_error
 * gives the failure's code (MR_EPIPE when the reader went away, MR_ENOSPC,
 * ...; 0 while none), mr__output_why its message, "cannot write 'NAME':
 * <reason>". */
/* Buffered write; 0 or MR_EIO. */
int mr__output_write(mr__output *o, const void *p, size_t n);
int mr__output_flush(mr__output *o);
/* Bytes in the temporary so far (buffered ones included). */
uint64_t mr__output_size(const mr__output *o);
/* Flushes, syncs and renames the temporary into place; closes. 0 or MR_EIO */
int mr__output_commit(mr__output *o);
/* Flushes, syncs and closes, leaving the temporary for a resume. */
int mr__output_keep(mr__output *o);
/* Frees; removes a temporary that is neither committed nor resumable.
 * Accepts NULL. */
void mr__output_free(mr__output *o);
int mr__output_error(const mr__output *o);
const char *mr__output_why(const mr__output *o); /* "" while no failure */
const char *mr__output_name(const mr__output *o); /* "<stdout>" for stdout */
/* The temporary's path while a file is being written, else NULL (stdout,
 * devices). */
const char *mr__output_temp(const mr__output *o);

#endif
