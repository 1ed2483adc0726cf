/* joblog.h: --joblog FILE in GNU parallel's format, so existing tooling
 * reads it:
 *   Seq Host Starttime JobRuntime Send Receive Exitval Signal Command
 * tab-separated, one line per item, Seq 1-based, Host ":" for the master's
 * own host. A resumed run appends to it, and can resume from it. */
#ifndef MR_JOBLOG_H
#define MR_JOBLOG_H

#include <stdint.h>

#include "text/doneset.h"
#include "mapreduce.h"

typedef struct mr__joblog mr__joblog;

/* Opens path: appended to when `append` (the header only if it is empty;
 * a last line cut short is cut off first), else truncated. 0, or the
 * failure's code (mr__error_from_errno) with why (if not NULL) saying
 * "cannot write 'PATH': <reason>". */
int mr__joblog_open(const char *path, int append, mr__joblog **out, mr_buf *why);
/* Cuts the file back to what it was when opened (a refused resume). */
int mr__joblog_rollback(mr__joblog *jl);
/* One item's line (buffered until mr__joblog_sync). */
int mr__joblog_add(mr__joblog *jl, uint64_t seq, const char *host, double start,
               double runtime, uint64_t received, int exitval, int sig,
               const char *cmd, size_t cmdlen);
/* Writes the buffered lines: 0, or the failure's code with why (if not
 * NULL) saying "cannot write 'PATH': <reason>". */
int mr__joblog_sync(mr__joblog *jl, mr_buf *why);
void mr__joblog_free(mr__joblog *jl);

/* Reads path for a resume: one record per line (seq 0-based, status 0 when
 * Exitval and Signal are 0, hash of the Command). *recs NULL and *n 0 when
 * there is no such file. */
int mr__joblog_load(const char *path, mr__jrec **recs, size_t *n, mr_buf *why);

#endif
