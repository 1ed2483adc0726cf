/* coproc.h: --worker, a long-lived command per computing thread (as
 * Hadoop streaming runs its mapper), fed items one per line on its
 * standard input and answering one line per item on its standard output
 * (the protocol: coline.h).
 *
 * Items go to the process in batches: a whole chunk is written while its
 * answers are read (non-blocking, under poll, so neither side ever waits on
 * a full pipe), so an item costs a few microseconds rather than a round
 * trip. Failures cost one item each:
 *   - the process exits or is killed: the item it was on fails (its exit
 *     status or signal), the rest of the batch goes to a new process;
 *   - no answer for the chunk's time limit (--timeout; a new process's
 *     first answer has 30 s more, for its start): it is killed, the item
 *     fails, a new one takes the rest;
 *   - it ends with an item unanswered (a missing line): that item fails;
 *   - more lines than items: the batch is redone one item at a time with
 *     a new process, and the item that answers twice fails;
 *   - a line starting with the error marker fails its item with the
 *     line's message.
 * A command that cannot be started (not found, not executable) fails the
 * kernel's thread_init; one that exits before any process of the rank has
 * answered an item, three starts in a row (the same items each time), ends
 * the run (MR_ECRASH), and mr__coproc_failure says why.
 * Processes are killed and reaped when their thread ends, and die with
 * their rank (PR_SET_PDEATHSIG). The caller ignores SIGPIPE. */
#ifndef MR_COPROC_H
#define MR_COPROC_H

#include "farm/chunk.h"

typedef struct mr__coproc mr__coproc;

/* cmd runs directly when it is plain words (its program is looked up on
 * PATH now: MR_ENOENT "--worker: command not found: NAME" when absent),
 * else under /bin/sh -c. raw: results are written as produced, without
 * "ITEM<TAB>". 0, or a negative mr_error with the reason in why. */
int mr__coproc_new(const char *cmd, int raw, mr__coproc **out, mr_buf *why);
void mr__coproc_free(mr__coproc *c);

/* The kernel over c (which must outlive it): one process per thread. */
mr__kernel mr__coproc_kernel(mr__coproc *c);

/* Why the command ended the run on this rank, appended to why: 1, or 0
 * when it did not. Thread-safe. */
int mr__coproc_failure(mr__coproc *c, mr_buf *why);

/* Lines the processes wrote after their input ended (when their thread
 * ended): answers to no item, so some results were out of step (a worker
 * that answered an item with two lines, or wrote a banner). Thread-safe. */
uint64_t mr__coproc_late_lines(mr__coproc *c);

/* An item as --joblog names it: CMD <<< ITEM (the item quoted for the
 * shell when it needs to be). */
void mr__coproc_describe(const char *cmd, const char *item, size_t len, mr_buf *out);

/* Starts that exit before any answer, in a row, before the run ends. */
#define MR__COPROC_START_TRIES 3

#endif
