/* master.h: the master's state (farm.c). */
#ifndef MR_MASTER_H
#define MR_MASTER_H

#include "farm/farm.h"
#include "farm/pool.h"
#include "farm/retry.h"
#include "farm/ring.h"
#include "farm/sizer.h"

enum { S_FREE, S_BUSY, S_RETRY, S_DONE };

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
  int *ranks; /* per item, once an answer came from elsewhere; else NULL */
} slot;

typedef struct target {
  int rank; /* 0: the master's own pool */
  int node; /* the lowest rank on its node: equal on the same node */
  int inflight;
  int depth;   /* chunks it holds as a rule; master_depth says how many now
                  (up to SIZER_DEPTH_EXTRA more for a worker rank) */
  int threads;
  int reported; /* has returned a result */
  uint64_t items; /* in the chunks it holds (cfg->deadline_ns) */
} target;

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
  mr__ring ring; /* the ordered output: chunks sent, in input order */
  mr__item pending; /* read but belonging to the next chunk */
  int have_pending;
  int eof;
  int src_again; /* the source had no item this round (a silent pipe) */
  int stopping;   /* dispatch nothing more (drain or halt soon) */
  int draining;   /* a signal asked to stop: bounded by deadline */
  int halted_now;
  int time_up;    /* nothing more fits before cfg->deadline_ns */
  uint64_t failures; /* failed items come back so far (halt_now_fail_n) */
  uint64_t failed_last; /* the last of them in input order */
  int halt_due;      /* as many as halt the run: handed-back items stay unrun */
  uint64_t deadline;
  mr__sizer sizer;
  mr_buf spare; /* receives results; swapped with the slot's buffer */
  size_t held;  /* bytes of work in flight and results awaiting their turn
                   (and retry.held of answers awaiting their chunk) */
  size_t budget;
  size_t chunk_bytes;
  double node_load; /* ranks on rank 0's node per core there */
  int *nodes;       /* per rank, the lowest rank on its node */
  int inflight;
  int rc;
  mr__farm_stats st;
  uint64_t time_hist[MR__TIME_BUCKETS];
  uint64_t time_count;
  /* items going round again: the planner decides, the loop sends */
  mr__retry retry;
  mr__task *atasks;       /* per attempt (mr__retry.nattempts) */
  MPI_Request *areqs;
  mr__retry_place *places; /* per target, for mr__retry_next */
  const mr__farm_observer *obs; /* or NULL */
  uint64_t t0;                  /* the run's time 0 (the observer's) */
} master;

#endif
