/* chunk.h: the two messages of the farm, and computing one chunk.
 *
 * work   (master -> worker): mr__work_hdr, then per item one code byte (0, or
 *        the negated mr_error of an item already known bad, sent without
 *        text), its length (4 bytes, native order), its bytes and a NUL, so
 *        a kernel may read text items as C strings and binary ones by size.
 * result (worker -> master): mr__result_hdr, n mr__rec, n mr__times when the
 *        work asked for times, then the items' output bytes back to back.
 * When nothing failed, the master writes the output bytes in one piece. */
#ifndef MR_CHUNK_H
#define MR_CHUNK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mapreduce.h"

enum {
  MR__WORK_TIMES = 1u, /* fill mr__times for every item (joblog) */
  /* items going round again: computed before the chunks queued on the
   * rank, as their chunk holds its place in the output meanwhile */
  MR__WORK_URGENT = 2u,
  /* --halt now: the chunk ends at its first failed item and hands the rest
   * back unrun, so nothing after a failure that halts the run is computed */
  MR__WORK_STOP_AT_FAIL = 4u,
  /* result only: the worker could not compute the chunk (the kernel
   * failed, not an item); no records follow, nfail holds the negated
   * mr_error, and the master ends the run with it */
  MR__RESULT_FAILED = 8u,
};

typedef struct mr__work_hdr {
  uint64_t id;   /* chunk number */
  uint64_t seq0; /* run-wide index (0-based) of the first item */
  uint32_t n;    /* items */
  uint32_t flags;
  uint32_t slot; /* the master's bookkeeping, echoed in the result */
  uint32_t bytes; /* item bytes after the header */
  double timeout_s; /* per-item time limit for the kernel; 0 = none */
  /* After budget_us of the chunk (0 = never), the items not yet started go
   * back to the master unrun, status MR__NOTRUN, so a run of slow items in
   * one chunk spreads over the ranks. The clock is read every check_every
   * items: cheap items would pay more for reading it than for their work. */
  uint32_t budget_us;
  uint32_t check_every;
  uint32_t last; /* where the last item starts, in bytes after the header */
  /* --halt now,fail=N: failures the run takes before it halts, when the
   * chunk was sent (0: no such limit); at 1, the rank that fails an item
   * knows the halt is certain and starts nothing after it (mr__halt_at) */
  uint32_t halt_left;
  /* with it, the last (in input order) of the failures counted so far:
   * the output may go on up to there, so the halt starts nothing after
   * the later of it and the failing item */
  uint64_t failed_last;
} mr__work_hdr;

/* Statuses of the farm's own, never a job's (see mr__job_status):
 * MR__NOTRUN, an item a worker handed back unstarted: the master sends it
 * again, or drops it when the run is draining (--resume redoes it);
 * MR__DROPPED, an item cut short by the stop of the run: a command killed
 * by its signal (Slurm signals every process of a step) or by the rank, an
 * --isolate child killed, a job that returned MR_EINTR (mr_stopping); the
 * items after it in the chunk go back unrun. Dropped when the master is
 * draining, else an ordinary MR_ESIGNAL failure. */
#define MR__NOTRUN (-1000)
#define MR__DROPPED (-1001)
static inline int mr__unfinished(int status) {
  return status == MR__NOTRUN || status == MR__DROPPED;
}
/* What a job's return code becomes: 0, an mr_error, or MR_EJOB for
 * anything else (positive codes, or numbers of the farm's own). */
static inline int mr__job_status(int rc) {
  return rc > 0 || rc < MR_ESKIPPED ? MR_EJOB : rc;
}

typedef struct mr__result_hdr {
  uint64_t id;
  uint32_t n;
  uint32_t nfail;
  uint32_t slot;
  uint32_t flags;
  uint64_t busy_ns; /* time spent computing the chunk */
  uint64_t start_ns; /* when it began, on the rank's wall clock (ns since
                        the epoch): where --trace and --timeline place it */
} mr__result_hdr;

typedef struct mr__rec {
  int32_t status; /* 0 or a negative mr_error */
  uint32_t len;   /* output bytes of this item */
} mr__rec;

typedef struct mr__times {
  double start;    /* wall clock, seconds since the epoch */
  double runtime;  /* seconds */
  int32_t exitval; /* exec mode: the command's exit status */
  int32_t signal;  /* the signal that ended it (exec, --isolate) */
  double limit;    /* in: the item's time limit in seconds, 0 = none */
} mr__times;

/* What the job side of a rank provides: run is called once per item. */
typedef struct mr__kernel {
  void *ctx;
  int (*thread_init)(void *ctx, void **tstate);  /* optional */
  void (*thread_fini)(void *ctx, void *tstate);  /* optional */
  /* Appends the item's output to out; returns 0 or a negative mr_error
   * (then out holds a one-line message). times may be filled (exitval,
   * signal); start and runtime are measured around the call. */
  int (*run)(void *tstate, const char *item, size_t len, uint64_t seq,
             mr_buf *out, mr__times *times);
  /* optional: replaces the per-item loop for a whole chunk (reductions) */
  int (*run_chunk)(void *tstate, const mr__work_hdr *h, const char *items,
                   mr_buf *result);
} mr__kernel;

/* The item this thread is computing (NULL text between items), for a
 * crash report from a signal handler. */
typedef struct mr__current {
  const char *text;
  size_t len;
  uint64_t seq;
} mr__current;
extern _Thread_local volatile mr__current mr__now_computing;

/* Set in a rank once a --halt now is certain (farm.c, worker.c, or the
 * rank's own Nth failure): the item in input order after which nothing is
 * wanted. Items after it are not started (handed back unrun); items before
 * it still are, wherever they wait, as the output goes on up to the
 * failure that halts it. MR__NO_HALT: no halt. */
#define MR__NO_HALT UINT64_MAX
extern _Atomic uint64_t mr__halt_seq;
/* The run halts after item seq (keeps the earliest such point). */
static inline void mr__halt_at(uint64_t seq) {
  uint64_t cur = atomic_load(&mr__halt_seq);
  while (seq < cur && !atomic_compare_exchange_weak(&mr__halt_seq, &cur, seq)) {
  }
}
/* Is item seq past the halt (never to start)? */
static inline int mr__halted(uint64_t seq) {
  return seq > atomic_load_explicit(&mr__halt_seq, memory_order_relaxed);
}
/* Item seq of the work wh failed (and stopped its chunk): when it is the
 * Nth (wh->halt_left == 1), the halt it brings, after the later of it and
 * the failures counted before. */
static inline void mr__halt_failed(const mr__work_hdr *wh, uint64_t seq) {
  if (wh->halt_left == 1) mr__halt_at(seq > wh->failed_last ? seq : wh->failed_last);
}

/* ---- building work (master) */
void mr__work_begin(mr_buf *b, uint64_t id, uint64_t seq0, uint32_t flags,
                uint32_t slot, double timeout_s);
/* bad: 0, or the negative mr_error of a line that is not an item */
static inline int work_add(mr_buf *b, const char *text, size_t len, int bad);
/* The last item's text and length (a chunk of at least one item). */
static inline const char *work_last(const void *msg, size_t *len);
static inline mr__work_hdr *work_hdr(const mr_buf *b) {
  return (mr__work_hdr *)(void *)b->data;
}
static inline const char *work_items(const void *msg) {
  return (const char *)msg + sizeof(mr__work_hdr);
}
static inline int work_urgent(const mr_buf *b) {
  return b->len >= sizeof(mr__work_hdr) && (work_hdr(b)->flags & MR__WORK_URGENT);
}

/* Walks the items of a work message: returns the next item's code (0 or a
 * negative mr_error) and sets *text, *len; *p advances. */
static inline int work_next(const char **p, const char **text, size_t *len);

/* Checks a received work message is whole; 0 or MR_EINVAL. */
int mr__work_check(const void *msg, size_t len);

/* ---- results */
static inline const mr__result_hdr *result_hdr(const mr_buf *b) {
  return (const mr__result_hdr *)(const void *)b->data;
}
static inline const mr__rec *result_recs(const void *msg) {
  return (const mr__rec *)(const void *)((const char *)msg +
                                         sizeof(mr__result_hdr));
}
const mr__times *mr__result_times(const void *msg); /* NULL when absent */
const char *mr__result_data(const void *msg);
/* How many items the worker handed back unrun. */
uint32_t mr__result_unrun(const void *msg);
int mr__result_check(const void *msg, size_t len);

/* Computes every item of work into result (overwritten). Returns 0, or the
 * negative mr_error of a failure that is not an item's (out of memory). */
int mr__chunk_compute(const mr__kernel *k, void *tstate, const void *work,
                  mr_buf *result);

/* ---- inline bodies */
#include <string.h>

#define MR__ITEM_OVERHEAD (1 + sizeof(uint32_t) + 1) /* code, length, NUL */

static inline int work_add(mr_buf *b, const char *text, size_t len, int bad) {
  if (bad) len = 0;
  if (len > UINT32_MAX - MR__ITEM_OVERHEAD) return MR_ERANGE;
  /* per item on the master: no call while the buffer has room */
  if (b->cap - b->len <= len + MR__ITEM_OVERHEAD &&
      mr_buf_reserve(b, len + MR__ITEM_OVERHEAD))
    return MR_ENOMEM;
  char *p = b->data + b->len;
  uint32_t n32 = (uint32_t)len;
  *p++ = (char)(unsigned char)(-bad);
  memcpy(p, &n32, sizeof n32);
  p += sizeof n32;
  memcpy(p, text, len);
  p[len] = '\0';
  b->len += len + MR__ITEM_OVERHEAD;
  mr__work_hdr *h = work_hdr(b);
  h->n++;
  h->last = h->bytes;
  h->bytes += (uint32_t)(len + MR__ITEM_OVERHEAD);
  return 0;
}

static inline const char *work_last(const void *msg, size_t *len) {
  mr__work_hdr h;
  memcpy(&h, msg, sizeof h);
  const char *p = work_items(msg) + h.last, *text;
  work_next(&p, &text, len);
  return text;
}
static inline int work_next(const char **p, const char **text, size_t *len) {
  const char *q = *p;
  int code = -(int)(unsigned char)*q;
  uint32_t n;
  memcpy(&n, q + 1, sizeof n);
  *text = q + 1 + sizeof n;
  *len = n;
  *p = q + 1 + sizeof n + n + 1;
  return code;
}

#endif
