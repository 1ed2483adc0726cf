/* farm.h: the master/worker farm every map runs on.
 *
 * Rank 0 of the communicator (the master) pulls items from a source, packs
 * them into chunks, keeps a few chunks in flight on every computing rank
 * (itself included, through a thread pool) and hands finished chunks to a
 * sink, in input order unless asked otherwise. The other ranks only compute.
 * The farm knows nothing of files or text: the CLI and the library give it a
 * source, a kernel and a sink. */
#ifndef MR_FARM_H
#define MR_FARM_H

#include <mpi.h>
#include <signal.h>
#include <stdint.h>

#include "farm/chunk.h"

/* MPI_COMM_NULL as the communicator: a single process without MPI at all. */

typedef struct mr__item {
  const char *text; /* valid until the next call of the source */
  size_t len;
  uint64_t seq;     /* the item's index in the whole input, 0-based; a
                       source may skip indexes (a resumed run) */
  uint64_t tag;     /* travels with the item on the master (line number) */
  int bad;          /* 0, or the negative mr_error of an item known bad */
} mr__item;

#define MR__SRC_AGAIN 2
typedef struct mr__source {
  /* 1: *it filled; 0: no more items; MR__SRC_AGAIN: none yet (the input
   * is a pipe that has not said more): the master sends what it has,
   * writes what came back and asks again; MR_EINTR: stopped while waiting
   * for input (the run drains, as after cfg->stop); < 0: a fatal error
   * (the run stops). */
  int (*next)(void *ctx, mr__item *it);
  /* Estimate of the items still to come; UINT64_MAX when unknown. */
  uint64_t (*remaining)(void *ctx);
  void *ctx;
} mr__source;

/* A finished chunk as the sink sees it. */
typedef struct mr__done {
  const void *work;     /* the work message that was sent */
  const uint64_t *tags; /* per item, as the source gave them */
  const void *result;   /* the result message */
  size_t result_len;
  int rank;             /* the rank that computed it */
  const int *ranks;     /* per item, when some items were computed again
                         * elsewhere (retried, handed back); NULL: all on rank */
} mr__done;

enum { MR__HALT_SOON = 1, MR__HALT_NOW = 2 };

typedef struct mr__sink {
  /* 0; a negative mr_error that stops the run (e.g. output failed);
   * MR__HALT_SOON: dispatch nothing more, finish what runs; MR__HALT_NOW:
   * stop at once, keeping only what has finished. */
  int (*put)(void *ctx, const mr__done *d);
  /* optional: called when the master has nothing to do for a moment */
  void (*idle)(void *ctx);
  void *ctx;
} mr__sink;

/* What the master tells an observer (--progress, --stats, --trace ...), from
 * the messages it handles anyway: per chunk, never per item. Times are the
 * master's monotonic clock in ns since the run began (after set-up), except
 * start_wall_ns, the computing rank's wall clock. */
enum {
  MR__EV_START = 1, /* the run begins: ranks, threads, computing, wall_ns */
  MR__EV_CHUNK,     /* a chunk or an attempt came back from rank */
  MR__EV_READ,      /* the master read a chunk's items: t0..t1 */
  MR__EV_WRITE,     /* the master handed a chunk to the sink: t0..t1 */
  MR__EV_TICK,      /* the master waits: a moment to look at the clock */
  MR__EV_END        /* the run is over (t1) */
};

typedef struct mr__farm_event {
  int kind;
  int rank;          /* CHUNK: the rank that computed it */
  int attempt;       /* CHUNK: -1 a chunk's first run; 0 handed-back items'
                        first run elsewhere; k > 0 the k-th retry */
  uint64_t chunk;    /* the chunk's number (an attempt: its chunk's) */
  uint32_t items;    /* items in the message */
  uint32_t failed;   /* CHUNK: items that failed (not counting handed back) */
  uint32_t unrun;    /* CHUNK: items handed back unrun */
  uint64_t line;     /* the first item's tag (its line), and the last's */
  uint64_t last_line;
  uint64_t t0, t1;   /* CHUNK: sent and received; READ/WRITE: the span */
  uint64_t start_wall_ns; /* CHUNK: when the rank began it (its clock) */
  uint64_t busy_ns;  /* CHUNK: how long it computed */
  /* START */
  int ranks, threads, master_computes;
  uint64_t wall_ns;  /* the master's wall clock at time 0 */
} mr__farm_event;

typedef struct mr__farm_observer {
  void (*event)(void *ctx, const mr__farm_event *e);
  int spans;  /* also READ and WRITE events (two clock reads a chunk) */
  void *ctx;
} mr__farm_observer;

typedef struct mr__farm_cfg {
  size_t chunksize;       /* items per chunk; 0 = adaptive */
  int threads;            /* computing threads per rank (0 = 1) */
  int unordered;          /* hand chunks to the sink as they finish */
  int master_compute;     /* 1 yes, 0 no, -1 automatic */
  uint32_t work_flags;    /* MR__WORK_TIMES */
  size_t mem_budget;      /* bytes of results held for reordering; 0 = default */
  volatile sig_atomic_t *stop; /* nonzero: stop dispatching, drain, return */
  uint64_t drain_ns;      /* how long a drain waits for chunks in flight */
  int retries;            /* runs a failed item up to this many more times */
  double timeout_s;       /* per-item time limit for the kernel; 0 = none */
  double timeout_pct;     /* or this % of the median item time; 0 = none */
  /* --halt now,fail=N: once N failures have come back (with no retries to
   * undo them) the halt is certain: nothing more is dispatched, and what
   * chunks handed back after their failure is not sent again */
  uint64_t halt_now_fail_n;
  /* --deadline: chunks are sent only where, at the item cost measured so
   * far, they end by then (mr__now_ns's clock; 0 = no deadline), cut to
   * fit near it; once not even one item fits on an idle rank nothing more
   * is sent, and the run ends when what is out has come back (MR_EINTR,
   * stats->timed_out). What runs at the deadline itself is cut short by
   * cfg->stop, which the caller sets then on every rank. */
  uint64_t deadline_ns;
  const mr__farm_observer *observer; /* or NULL */
} mr__farm_cfg;

typedef struct mr__farm_stats {
  uint64_t items;     /* items handed to the sink */
  uint64_t chunks;
  uint64_t busy_ns;   /* computing time summed over every rank */
  double setup_s;     /* until every rank had its job ready */
  double seconds;     /* wall time of the farm on the master after that */
  int computing;      /* threads that computed */
  int node_ranks;     /* ranks on rank 0's node */
  uint64_t lost;      /* items in flight when a drain or halt gave up */
  uint64_t retried;   /* retry attempts */
  uint64_t given_back; /* items overrunning chunks handed back unrun */
  int halted;         /* the sink asked to halt */
  int timed_out;      /* stopped sending for cfg->deadline_ns */
  int stuck;          /* workers did not answer the stop: abort the job */
  int abandoned;      /* a thread of the master's is still inside an item
                       * after a stop: the caller must end the process
                       * without unloading the job (mr__pool_stop) */
} mr__farm_stats;

/* Collective over comm. The master (rank 0) passes src and sink; the other
 * ranks pass NULL. Returns 0, MR_EINTR after a drain or a halt, or a
 * negative mr_error; every rank returns the same, except that a master
 * whose workers did not answer a stop in time returns MR_EINTR alone (the
 * caller must then abort the job). stats (may be NULL) is filled on the
 * master. */
int mr__farm_run(MPI_Comm comm, const mr__farm_cfg *cfg, const mr__kernel *k,
                 mr__source *src, mr__sink *sink, mr__farm_stats *stats);

/* ---- shared by the master and worker loops (farm.c, worker.c) */
enum { MR__TAG_WORK = 1, MR__TAG_RESULT, MR__TAG_STOP, MR__TAG_BYE, MR__TAG_HALT };
enum { MR__STOP_FINISH = 0, MR__STOP_DISCARD = 1 };

typedef struct mr__bye {
  int32_t rc;        /* the worker's own failure, if any */
  int32_t threads;
  uint64_t busy_ns;
} mr__bye;

int mr__worker_run(MPI_Comm comm, const mr__farm_cfg *cfg,
                   const mr__kernel *k);

#endif
