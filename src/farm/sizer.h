/* sizer.h: how many items go into the next chunk.
 * A fixed -c N is honoured as given. Automatic sizing aims each chunk at a
 * few milliseconds of work (so the per-message cost disappears) and shrinks
 * chunks as the input runs out (guided self-scheduling: at most a fraction
 * of each rank's share of what is left), so stragglers do not hold the tail. */
#ifndef MR_SIZER_H
#define MR_SIZER_H

#include <stddef.h>
#include <stdint.h>

#define MR_CHUNK_MAX_ITEMS 65536u
#define MR_CHUNK_MAX_BYTES (64u << 10) /* larger messages cost more than they save on an oversubscribed node */

typedef struct mr__sizer {
  size_t fixed;        /* -c N; 0 = automatic */
  int ranks;           /* computing threads in the whole run */
  double item_ns;      /* moving average of compute time per item; 0 = none yet */
  uint64_t items_seen; /* items whose time went into item_ns */
  int learners;        /* chunks stay single items until this many ranks */
  int reported;        /* have returned their first result */
  size_t last;         /* size of the previous automatic chunk */
  size_t sent;         /* items in the last chunk sent (fewer when bytes
                          or the input's end cut it short); 0 = unknown */
  double target_ns;    /* aimed-for chunk duration */
} mr__sizer;

void mr__sizer_init(mr__sizer *s, size_t fixed, int ranks);
/* Records that a chunk of n items took busy_ns to compute. */
void mr__sizer_observe(mr__sizer *s, uint32_t n, uint64_t busy_ns);
/* How many ranks (at most 64) must return a first result before chunks
 * grow; mr__sizer_init assumes one a computing thread. */
void mr__sizer_learners(mr__sizer *s, int ranks);
/* A rank returned its first result. */
void mr__sizer_first_result(mr__sizer *s);
/* For an automatic chunk of n items: the time after which its worker hands
 * the unstarted items back (0 = never: fixed sizes, single items, nothing
 * measured yet), and how often it looks at the clock. load: ranks per core
 * on the node, as a rank that shares a core takes that much longer. */
void mr__sizer_budget(const mr__sizer *s, size_t n, double load,
                  uint32_t *budget_us, uint32_t *check_every);
/* Items for the next chunk. remaining: an estimate of the items not yet
 * read (UINT64_MAX when unknown). */
size_t mr__sizer_next(mr__sizer *s, uint64_t remaining);
/* n items went into the chunk just sent (fewer than mr__sizer_next said
 * when bytes or the input's end cut it short). */
void mr__sizer_sent(mr__sizer *s, size_t n);
/* What n items are expected to take, in ns; negative while nothing is
 * measured. */
double mr__sizer_cost_ns(const mr__sizer *s, size_t n);
/* Items in the chunks sent now: -c N, else the last automatic size. */
size_t mr__sizer_chunk_items(const mr__sizer *s);
/* Items in one chunk's worth of work at the cost measured now (at least
 * 1; UINT32_MAX while nothing is measured). */
uint32_t mr__sizer_items_per_chunk(const mr__sizer *s);
/* How many chunks a rank computing with `threads` threads may hold at once,
 * at most max. Several per thread hide the round trip to the master, but a
 * chunk queued behind another cannot move to a rank that falls idle: while
 * the cost of an item is unknown and near the end of the input a rank holds
 * one chunk per thread, and for long chunks one more. Short chunks (the
 * last one sent under QUEUE_NS, 2 ms, of work for the queue) may exceed max
 * by up to `extra`, so that the queue still lasts that long. */
#define SIZER_DEPTH_EXTRA 4 /* the `extra` a worker rank gets */
/* The `max` of a worker rank computing with `threads` threads: the chunks
 * it holds as a rule (the master sizes its slots, a worker its tasks, by
 * it). */
int mr__sizer_rank_depth(int threads);
int mr__sizer_depth(const mr__sizer *s, uint64_t remaining, int threads, int max,
                int extra);

#endif
