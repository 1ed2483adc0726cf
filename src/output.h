/* output.h: where results go. A file is written as a temporary beside it
 * and renamed over it only when the run commits, so a killed run never leaves
 * a half-written file under the final name. Standard output is written
 * through a buffer that is flushed whenever the master has nothing to do. */
#ifndef MR_OUTPUT_H
#define MR_OUTPUT_H

#include <stddef.h>

typedef struct mr__output mr__output;

/* path NULL or "-": standard output. On failure NULL, *err = errno. */
mr__output *output_open(const char *path, int *err);
/* Buffered write; 0 or MR_EIO (output_errno tells why). */
int output_write(mr__output *o, const void *p, size_t n);
int output_flush(mr__output *o);
/* Flushes, syncs and renames the temporary into place; closes. 0 or MR_EIO */
int output_commit(mr__output *o);
/* Frees; removes the temporary when not committed. Accepts NULL. */
void output_free(mr__output *o);
int output_errno(const mr__output *o);
const char *output_name(const mr__output *o); /* "<stdout>" for stdout */
/* The temporary's path while a file is being written, else NULL. */
const char *output_temp(const mr__output *o);

#endif
