/* master.h: the master's state, shared by farm.c and retry.c only. */
#ifndef MR_MASTER_H
#define MR_MASTER_H

#include "farm/farm.h"
#include "farm/pool.h"
#include "farm/sizer.h"

enum { S_FREE, S_BUSY, S_RETRY, S_DONE };

typedef struct override { /* a retried item's final answer */
  uint32_t pos;
  int32_t status;
  int rank; /* where it was computed */
  mr__times times;
  mr_buf out;
} override;

typedef struct slot {
  mr__task task; /* the work and result buffers, reused chunk after chunk */
  uint64_t id;
  uint64_t *tags;
  size_t tags_cap;
  size_t result_len;
  uint32_t n;
  int state;
  int target;
  MPI_Request req;
  int pending;     /* items still going round again (state S_RETRY) */
  override *ovr;
  size_t novr, ovr_cap;
  int *ranks; /* per item, once an override ran elsewhere; else NULL */
} slot;

typedef struct target {
  int rank; /* 0: the master's own pool */
  int node; /* the lowest rank on its node: equal on the same node */
  int inflight;
  int depth;   /* chunks it holds as a rule; mr__depth says how many now
                  (up to SIZER_DEPTH_EXTRA more for a worker rank) */
  int threads;
  int reported; /* has returned a result */
} target;

typedef struct rslot { /* a retry attempt, or handed-back items, in flight */
  mr__task task;
  MPI_Request req;
  uint32_t parent, pos, count; /* the parent chunk's items pos..pos+count-1 */
  int attempt, target, busy;
} rslot;

typedef struct retry_req {
  uint32_t parent, pos, count;
  int attempt; /* 0: the items' first run */
  int avoid;   /* the target that failed them; -1: handed back, not failed */
} retry_req;

#define MR__TIME_BUCKETS 512

typedef struct master {
  MPI_Comm comm;
  int size;
  const mr__farm_cfg *cfg;
  mr__source *src;
  mr__sink *sink;
  mr__pool *pool;
  target *targets;
  int ntargets;
  int rr;
  slot *slots;
  uint32_t nslots;
  uint32_t *free_stack;
  uint32_t nfree;
  uint32_t *ring; /* ordered output: slot of chunk id % nslots */
  uint64_t next_id, head_id;
  mr__item pending; /* read but belonging to the next chunk */
  int have_pending;
  int eof;
  int stopping;   /* dispatch nothing more (drain or halt soon) */
  int draining;   /* a signal asked to stop: bounded by deadline */
  int halted_now;
  uint64_t failures; /* failed items come back so far (halt_now_fail_n) */
  int halt_due;      /* as many as halt the run: handed-back items stay unrun */
  uint64_t deadline;
  mr__sizer sizer;
  mr_buf spare; /* receives results; swapped with the slot's buffer */
  size_t held;  /* bytes of work in flight and results awaiting their turn */
  size_t budget;
  size_t chunk_bytes;
  double node_load; /* ranks on rank 0's node per core there */
  int *nodes;       /* per rank, the lowest rank on its node */
  int inflight;
  int rc;
  mr__farm_stats st;
  uint64_t time_hist[MR__TIME_BUCKETS];
  uint64_t time_count;
  /* retries */
  rslot *rslots;
  uint32_t nrslots;
  retry_req *queue;
  size_t qhead, qlen, qcap;
} master;

void mr__fail(master *m, int rc);
void mr__slot_done(master *m, slot *s);
/* A result of n computed items from target ti took busy_ns. */
void mr__observe(master *m, int ti, uint32_t n, uint64_t busy_ns);
int mr__send(master *m, mr__task *task, MPI_Request *req, int target);
/* The source's estimate of the items still to read (UINT64_MAX: unknown). */
uint64_t mr__left(const master *m);
/* How many chunks target ti may hold now (mr__sizer_depth). */
int mr__depth(const master *m, int ti, uint64_t left);

/* retry.c */
int mr__retry_setup(master *m);
void mr__retry_teardown(master *m);
void mr__retry_forget(slot *s);
/* After a chunk's result came back: 1 when some of its items go round
 * again (the slot waits in S_RETRY), 0 when it is done. */
int mr__retry_plan(master *m, slot *s);
int mr__retry_dispatch(master *m, int local);
int mr__retry_arrived(master *m, mr_buf *buf, size_t len);
/* Counts the failures in a result for --halt now,fail=N (farm.c). */
void mr__halt_foresee(master *m, const mr__result_hdr *h);
/* What a chunk sent now carries as its halt_left. */
uint32_t mr__halt_left(const master *m);
/* The run is stopping: queued retries are dropped (their items keep their
 * failures), and so are handed-back items unless the stop is a halt
 * "soon" (they stay unfinished: not written, not journaled). */
void mr__retry_abandon(master *m);
int mr__retry_pending(const master *m);
void mr__retry_wait_sends(master *m);
/* Makes a slot in S_RETRY whole with what came back so far. */
void mr__retry_finish(master *m, slot *s);

#endif
