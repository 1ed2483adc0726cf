/* fold.h: reductions on the command line. A kernel that wraps the job's
 * (or command's) kernel and folds each result where it is computed, into
 * the computing thread's own partial, writing nothing per item (a failed
 * item keeps its message, so it is reported and counted as usual). After
 * the farm, the partials meet:
 *   - one value (-r OP): every rank packs its partial and rank 0 combines
 *     them into the one output line (columns of a result fold apart);
 *   - keyed (KEY<TAB>VALUE lines): every rank's pairs, combined per key on
 *     the rank that made them, go to the rank that owns the key (a hash of
 *     it) in batched MPI_Alltoallv rounds, never through rank 0; each rank
 *     sorts what it owns, and rank 0 merges the sorted streams into the
 *     output, so the output is the same at every -np. */
#ifndef MR_FOLD_H
#define MR_FOLD_H

#include <mpi.h>
#include <pthread.h>

#include "farm/chunk.h"
#include "reduce/acc.h"
#include "reduce/kv.h"

struct fold_thread;

typedef struct mr__fold {
  const mr__kernel *inner; /* computes the item: its result is folded */
  mr__op op;
  int keyed;
  int words;   /* keyed: the item's words are the keys, 1 the value (the
                  built-in wordcount, without formatting pairs to parse) */
  pthread_mutex_t mu;
  struct fold_thread **done; /* thread states, handed in as threads end */
  size_t ndone, cap;
  int rc; /* a thread that could not hand its partial in, or spill */
  /* keyed: what a rank's pairs may take of memory before they spill to
   * sorted runs in tmpdir (0: never); the files are unlinked as soon as
   * they are made, so nothing is left behind by any end of the run */
  size_t memory;
  const char *tmpdir;
  int threads;   /* computing threads per rank: the combiner's share */
  mr_buf why;    /* the reason of rc, when it is this rank's own */
  uint64_t spills; /* runs written on this rank */
  /* keyed, op concat: the command that reduces the rank's keys (-R), run
   * once per rank that owns any, on their KEY<TAB>VALUE lines sorted by
   * key; its output lines are sorted by key (the bytes before a line's
   * first tab, or the whole line) and merged across ranks */
  const char *reducer;
} mr__fold;

int mr__fold_init(mr__fold *f, const mr__kernel *inner, mr__op op, int keyed);
void mr__fold_free(mr__fold *f);
/* The kernel the farm runs (f must outlive it). */
mr__kernel mr__fold_kernel(mr__fold *f);

/* Collective over comm (MPI_COMM_NULL: alone), after the farm. On rank 0,
 * appends the one line, newline included, to line. 0 or a negative
 * mr_error, the same on every rank. */
int mr__fold_reduce(mr__fold *f, MPI_Comm comm, mr_buf *line);

/* Where rank 0 writes the sorted lines: 0 or a negative mr_error. */
typedef int (*mr__fold_write_fn)(void *ctx, const void *p, size_t n);
/* Collective, after the farm: the shuffle, the per-key reduction and the
 * sorted output through write (called on rank 0 only). 0 or a negative
 * mr_error, the same on every rank (MR_EIO: write failed). */
int mr__fold_keyed(mr__fold *f, MPI_Comm comm, mr__fold_write_fn write, void *ctx);

/* ---- the pieces, for tests */
/* Folds one item's result (the job's bytes) into cols (-r). 0, or
 * MR_EINVAL with why. */
int mr__fold_result(mr__op op, mr__acc **cols, size_t *ncols, const char *res,
                    size_t len, uint64_t seq, mr_buf *why);
/* Folds one item's KEY<TAB>VALUE lines into kv, all or none. */
int mr__fold_pairs(mr__op op, mr__kv *kv, const char *res, size_t len, uint64_t seq,
                   mr_buf *why);
/* Folds the words of text into kv with the value 1. */
int mr__fold_words(mr__op op, mr__kv *kv, const char *text, size_t len, uint64_t seq);
/* Appends the -r line of cols (newline included). */
int mr__fold_line(mr__op op, const mr__acc *cols, size_t ncols, mr_buf *out);
/* Appends KEY<TAB>VALUE\n. */
int mr__fold_pair_line(mr__op op, const mr__kv_entry *e, mr_buf *out);

#endif
