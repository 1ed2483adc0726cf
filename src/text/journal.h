/* journal.h: what a run with -o FILE has finished, so a stopped run can be
 * resumed with nothing lost and nothing done twice.
 *
 * Results are appended to FILE.partial in the order they finish; after each
 * chunk's bytes are written, a record goes to FILE.journal saying which
 * items they were and where their bytes end:
 *     mapreduce journal 2
 *     job <the job, --exec template and --arg, escaped>
 *     R <first seq> <end seq> <output end offset> <hash of first item> <chain of all its items>
 *     F <seq> <status> <hash of the item>
 * (seqs are 0-based item indexes). Records are only ever appended, each with
 * one write after the output it describes, so after any kill the journal
 * vouches for a prefix of the partial file. A resumed run skips the items
 * it records (with --resume-failed, not the failed ones), checks that the
 * input still has the same items there, every one of them, in order (the
 * hashes, mr__doneset_chain: a journal from another input is refused), and
 * appends. When the run completes, FILE is the
 * partial file itself if it is already in input order, or is assembled from
 * it in input order. */
#ifndef MR_JOURNAL_H
#define MR_JOURNAL_H

#include <stdint.h>

#include "text/doneset.h"
#include "mapreduce.h"

typedef struct mr__journal mr__journal;

/* Loads PATH.journal for a resume. *j is NULL (and 0 returned) when there
 * is none. MR_EINVAL with why filled when it belongs to another job or to a
 * run in progress; the failure's code with why "cannot read 'PATH.journal':
 * <reason>" when it cannot be read. partial_size: the size of PATH.partial (records past it
 * are dropped). */
int mr__journal_load(const char *path, const char *spec, uint64_t partial_size,
                 mr__journal **j, mr_buf *why);
/* Starts a new journal (truncating any), or continues the loaded one: 0, or
 * the failure's code (mr__error_from_errno; MR_EAGAIN when another run
 * holds it) with why (if not NULL) saying "cannot write 'PATH.journal':
 * <reason>". */
int mr__journal_start(const char *path, const char *spec, mr__journal **j, mr_buf *why);
int mr__journal_resume(mr__journal *j, mr_buf *why);
void mr__journal_free(mr__journal *j);

/* Bytes of the partial file the journal vouches for. */
uint64_t mr__journal_out_size(const mr__journal *j);

/* Appends records (buffered until mr__journal_sync). */
int mr__journal_result(mr__journal *j, uint64_t seq, uint64_t end, uint64_t out_end,
                   uint64_t h_first, uint64_t h_all);
int mr__journal_failure(mr__journal *j, uint64_t seq, int status, uint64_t hash);
/* Writes the buffered records: call after the output they describe has
 * been written. 0, or the failure's code with why as mr__journal_start's. */
int mr__journal_sync(mr__journal *j, mr_buf *why);

/* ---- resuming */
/* What the loaded journal records as finished (built on first call). */
mr__doneset *mr__journal_done(mr__journal *j);

/* ---- completing */
/* Writes the final file from the partial one in input order (or renames the
 * partial when it already is), syncs it, and removes the journal. */
/* 0, or the failure's code with why (if not NULL) saying "cannot write
 * 'FINAL_PATH': <reason>". */
int mr__journal_complete(mr__journal *j, const char *partial, const char *final_path,
                     int unordered, mr_buf *why);
/* Removes the journal file (a run that finished without needing it). */
void mr__journal_remove(mr__journal *j);
/* Puts the journal and the partial file back as this run found them: cut
 * to what was loaded, or removed when mr__journal_start made them. For a run
 * that must leave no trace (a start that failed, a resume refused part-way
 * through a stream, a finished run resumed). */
int mr__journal_rollback(mr__journal *j, const char *partial);
const char *mr__journal_path(const mr__journal *j);

#endif
