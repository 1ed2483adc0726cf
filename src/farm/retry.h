/* retry.h: the planner of items that go round again. A chunk that comes
 * back with failed items (--retries) or with items its worker handed back
 * unrun (a chunk that overran its time budget) waits while they are sent
 * again; the planner decides which items go, to which target, in what
 * pieces, when an attempt is given up, and what a returning attempt means
 * for its chunk. The master loop (farm.c) does the sending and keeps the
 * slots: it asks mr__retry_next for the next attempt to send and drains
 * mr__retry_done_next for the chunks whose items are all answered.
 * No MPI here: plain data in, decisions out.
 *
 * A chunk is a "parent", named by its slot index; an attempt by an index
 * below mr__retry.nattempts (the master's messages carry slot nslots + it). */
#ifndef MR_RETRY_H
#define MR_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "farm/chunk.h"

/* A target (a rank, or the master's own pool) as the loop sees it now. */
typedef struct mr__retry_place {
  int node;     /* the lowest rank on its host: equal on the same host */
  int inflight; /* chunks it holds (the planner counts those it sends) */
  int most;     /* chunks it may hold now */
  int skip;     /* takes nothing now (the master's pool while it dispatches) */
} mr__retry_place;

/* How far the run is stopping, as the master knows it. */
typedef struct mr__retry_stop {
  int stopping;   /* failures are not tried again */
  int keep_unrun; /* handed-back items are still sent again (a halt "soon") */
  /* and without it, those before this run-wide item index still are (a
   * halt "now": the output goes on up to the failure that halts it) */
  uint64_t unrun_below;
} mr__retry_stop;

/* An attempt in flight: items pos..pos+count-1 of the parent. */
typedef struct mr__retry_attempt {
  uint32_t parent, pos, count;
  int attempt; /* 0: handed-back items' first run */
  int target;
  int busy;
} mr__retry_attempt;

typedef struct mr__retry_req {
  uint32_t parent, pos, count;
  int attempt; /* 0: the items' first run */
  int avoid;   /* the target that failed them; -1: handed back, not failed */
} mr__retry_req;

typedef struct mr__retry_answer mr__retry_answer;

typedef struct mr__retry_parent {
  uint64_t seq0; /* the run-wide index of its first item */
  int pending; /* items still going round again */
  mr__retry_answer *ans;
  size_t nans, cap;
} mr__retry_parent;

typedef struct mr__retry {
  int retries;  /* runs of a failed item after its first */
  int ntargets;
  uint32_t nparents;
  mr__retry_parent *parents;
  /* attempts have room of their own, so that a chunk waiting at the head
   * of the ordered output can never starve them */
  uint32_t nattempts;
  mr__retry_attempt *attempts;
  mr__retry_req *queue;
  size_t qhead, qlen, qcap;
  uint32_t *done; /* parents whose items are all answered, in order */
  uint32_t dhead, dlen;
  size_t held; /* bytes of answers waiting for their chunk */
} mr__retry;

/* Failures worth running again: not the ones the item itself causes. */
int mr__retriable(int status);

int mr__retry_init(mr__retry *r, uint32_t nparents, int ntargets, int retries);
void mr__retry_free(mr__retry *r);
/* After a parent's result (items seq0..) came back from target `ran_on`:
 * queues what goes round again, and *queued says how many items (then the
 * parent waits for them; 0: it is done). 0 or MR_ENOMEM. */
int mr__retry_plan(mr__retry *r, uint32_t parent, uint64_t seq0, const void *result,
                   int ran_on, mr__retry_stop stop, uint32_t *queued);
/* Are attempts waiting to be sent? */
int mr__retry_pending(const mr__retry *r);
/* The next attempt to send, or -1: none waits, no attempt has room, or no
 * target may take it now. The least loaded target with room; after a
 * failure one on another host if there is one (waiting for it), else
 * another one, the failing one only when it is alone. Handed-back items go
 * at most piece_max at a time (the sizer's chunk's worth). Counts the
 * attempt in places[target].inflight. */
int mr__retry_next(mr__retry *r, mr__retry_place *places, int rr, uint32_t piece_max);
/* The attempt in flight under id, or NULL. */
const mr__retry_attempt *mr__retry_attempt_of(const mr__retry *r, uint32_t id);
/* Attempt id's result came back, computed on `rank`: what goes round again
 * is queued, the rest answers its parent. 0 or MR_ENOMEM. */
int mr__retry_arrived(mr__retry *r, uint32_t id, const void *result, int rank,
                      mr__retry_stop stop);
/* The run is stopping: queued attempts are dropped (their items keep their
 * failures), and so are handed-back items unless stop.keep_unrun, or they
 * start before stop.unrun_below (they stay unfinished: not written, not
 * journaled). */
void mr__retry_abandon(mr__retry *r, mr__retry_stop stop);
/* The next parent whose items are all answered, or -1. */
int mr__retry_done_next(mr__retry *r);
/* Makes parent's result whole with the answers so far (the parent waits no
 * longer): *result is rebuilt, and *ranks (caller frees; allocated if
 * NULL) gets each item's rank when some answer came from elsewhere than
 * own_rank. 1: rebuilt, 0: nothing to merge, or MR_ENOMEM. */
int mr__retry_finish(mr__retry *r, uint32_t parent, mr_buf *result, int own_rank,
                     int **ranks);

#endif
