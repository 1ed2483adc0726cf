/* filter.h: one command run as a filter, as Hadoop streaming runs its
 * reducer: /bin/sh -c CMD, fed on its standard input while its standard
 * output is read, both under one poll, so a command that writes more than
 * a pipe holds before it has read all its input cannot deadlock with us.
 * Its standard error is ours. It runs in a process group of its own (a stop
 * or a failure ends what it started too) and dies with us
 * (PR_SET_PDEATHSIG). The caller ignores SIGPIPE. */
#ifndef MR_FILTER_H
#define MR_FILTER_H

#include <stddef.h>

#include "mapreduce.h"

/* Appends the next bytes of the command's input to out (already empty);
 * nothing appended: the input is over. 0 or a negative mr_error. */
typedef int (*mr__filter_feed_fn)(void *ctx, mr_buf *out);
/* Takes n bytes of the command's output. 0 or a negative mr_error. */
typedef int (*mr__filter_take_fn)(void *ctx, const char *p, size_t n);

/* Runs cmd until its output ends and it exits. Input it never reads is
 * dropped (its standard input closes as its pipe breaks): like a shell
 * pipeline, its exit status is what counts. Returns 0 when it exited 0;
 * MR_EEXIT (it exited non-zero: 127 when /bin/sh cannot run it) or
 * MR_ESIGNAL with "'CMD' exited with status N" / "'CMD' was killed by
 * signal N (NAME)" appended to why; MR_EINTR when the run is stopping
 * (mr_stopping: the process group is killed at once); a pipe or fork
 * that fails, with its reason; or the error a feed or take returned (the
 * command is then killed, why left to the caller). */
int mr__filter_run(const char *cmd, mr__filter_feed_fn feed, void *feed_ctx,
                   mr__filter_take_fn take, void *take_ctx, mr_buf *why);

#endif
