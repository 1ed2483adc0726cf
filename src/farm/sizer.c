/* sizer.c: fixed or adaptive chunk sizes. */
#include "farm/sizer.h"

#include <math.h>

#define TARGET_NS 4e6   /* a chunk aims at 4 ms of work */
/* What the master spends on a chunk (dispatch, gather, write), measured at
 * 5 us on a VM, 1 us on a bare host (bench/SCALING.md), with room to spare:
 * with P ranks the chunks must last P times this for the master to keep up. */
#define MASTER_CHUNK_NS 10e3
#define TAIL_SHARE 0.25 /* and at most this part of a rank's share of the rest */
#define LONG_CHUNK 2.0  /* chunks over this many targets are long */
#define TAIL_MIN_NS 5e5 /* the tail's chunks shrink no further than this */
/* A chunk running this many times its expected time, and at least
 * BUDGET_MIN_NS, hands its unstarted items back. Well above what a rank
 * waiting for its turn on a shared core loses (a few time slices). */
#define BUDGET_TIMES 8.0
#define BUDGET_MIN_NS 16e6
#define CHECK_NS 1000.0 /* read the clock about once per this much work */
#define CHECK_MAX 64
/* A worker holds at least this much work queued while chunks are short:
 * the master may be away that long (at -np <= 2 mpirun binds rank 0 to one
 * core, which its computing thread has until its time slice ends), and an
 * empty queue idles the rank. 4,000,000 primes at -np 2, chunks of 0.4 ms
 * (64 KiB): 3 chunks a worker, 0.449-0.457 s, the worker idle 20% of the
 * run (550 sleeps); 6 chunks, 0.404-0.411 s (30 sleeps). The master's own
 * pool keeps its depth: a deeper one gave its thread more of the shared
 * core and starved the workers again (0.45 s). */
#define QUEUE_NS 2e6
/* Chunks stay single items until every rank (at most LEARN_MIN of them)
 * has returned a result, and the cost of an item is the plain mean of the
 * first LEARN_ITEMS items a thread: when the first results were cheap items
 * (calc_stuff sleeping 0 units) the next chunks were 4 and 16 items long
 * and held the tail (120 skewed items at -np 8: 0.19-0.20 s, 16-24 items
 * handed back; now 0.186-0.189, single items as with -c 1). A rank stuck
 * in a long first item ends the wait after LEARN_LIMIT items a learner. */
#define LEARN_MIN 64
#define LEARN_ITEMS 4
#define LEARN_LIMIT 64

void mr__sizer_init(mr__sizer *s, size_t fixed, int ranks) {
  s->fixed = fixed;
  s->ranks = ranks < 1 ? 1 : ranks;
  s->item_ns = 0;
  s->items_seen = 0;
  s->reported = 0;
  mr__sizer_learners(s, s->ranks);
  s->last = 1;
  s->sent = 0;
  s->target_ns = TARGET_NS;
  if (s->ranks * MASTER_CHUNK_NS > s->target_ns) s->target_ns = s->ranks * MASTER_CHUNK_NS;
}

void mr__sizer_observe(mr__sizer *s, uint32_t n, uint64_t busy_ns) {
  if (n == 0) return;
  double per = (double)busy_ns / n;
  if (per < 1) per = 1;
  uint64_t seen = s->items_seen + n;
  if (seen <= LEARN_ITEMS * (uint64_t)s->ranks)
    s->item_ns = (s->item_ns * (double)s->items_seen + per * n) / (double)seen;
  else
    s->item_ns = 0.7 * s->item_ns + 0.3 * per; /* follows drifts fast */
  s->items_seen = seen;
}

void mr__sizer_learners(mr__sizer *s, int ranks) {
  s->learners = ranks < 1 ? 1 : ranks > LEARN_MIN ? LEARN_MIN : ranks;
}

void mr__sizer_first_result(mr__sizer *s) { s->reported++; }

void mr__sizer_sent(mr__sizer *s, size_t n) { s->sent = n; }

double mr__sizer_cost_ns(const mr__sizer *s, size_t n) {
  return s->items_seen ? s->item_ns * (double)n : -1;
}

size_t mr__sizer_chunk_items(const mr__sizer *s) { return s->fixed ? s->fixed : s->last; }

uint32_t mr__sizer_items_per_chunk(const mr__sizer *s) {
  if (s->items_seen == 0) return UINT32_MAX;
  double n = s->target_ns / s->item_ns;
  if (n < 1) return 1;
  return n > MR_CHUNK_MAX_ITEMS ? MR_CHUNK_MAX_ITEMS : (uint32_t)n;
}

/* Still sending single items to learn what one costs (mr__sizer_next). */
static int learning(const mr__sizer *s) {
  return !s->fixed && (s->items_seen == 0 ||
                       (s->reported < s->learners &&
                        s->items_seen < LEARN_LIMIT * (uint64_t)s->learners));
}

size_t mr__sizer_next(mr__sizer *s, uint64_t remaining) {
  if (s->fixed) return s->fixed;
  if (learning(s)) return 1; /* learn the item cost first */
  double want = (double)mr__sizer_items_per_chunk(s);
  if (remaining != UINT64_MAX) {
    /* a straggler costs at most the last chunk: half a millisecond is not
     * worth the messages of ever smaller chunks */
    double share = (double)remaining / s->ranks;
    double tail = share * TAIL_SHARE;
    double floor_items = TAIL_MIN_NS / s->item_ns;
    /* but never a whole rank's share of the rest in one chunk: the cost of
     * an item was measured on earlier ones, and when the last items are the
     * slow ones that chunk would be the straggler (guided self-scheduling's
     * bound, which holds whatever the items cost) */
    if (floor_items > share) floor_items = share;
    if (tail < floor_items) tail = floor_items;
    if (want > tail) want = tail;
  }
  /* grow gently: a first cheap item may hide a slow second one */
  double cap = (double)s->last * 4;
  if (want > cap) want = cap;
  if (want < 1) want = 1;
  if (want > MR_CHUNK_MAX_ITEMS) want = MR_CHUNK_MAX_ITEMS;
  s->last = (size_t)want;
  return s->last;
}

int mr__sizer_rank_depth(int threads) { return 2 * (threads < 1 ? 1 : threads) + 1; }

int mr__sizer_depth(const mr__sizer *s, uint64_t remaining, int threads, int max,
                int extra) {
  int d = max;
  if (s->items_seen == 0) {
    d = threads;
  } else {
    double n = (double)(s->fixed ? s->fixed : s->last);
    double chunk_ns = s->item_ns * (s->sent ? (double)s->sent : n);
    if (remaining != UINT64_MAX && (double)remaining < 2.0 * s->ranks * n)
      d = threads; /* the tail: what is left fits in two chunks a thread */
    else if (chunk_ns >= LONG_CHUNK * s->target_ns)
      d = threads + 1;
    /* short chunks; not the single items of the learning, which may be
     * the cheap ones of a skewed input (and are never handed back) */
    else if (chunk_ns * (max - threads) < QUEUE_NS && !learning(s))
      return max + (int)fmin(extra, ceil(QUEUE_NS / chunk_ns) - (max - threads));
  }
  if (d > max) d = max;
  return d < 1 ? 1 : d;
}

void mr__sizer_budget(const mr__sizer *s, size_t n, double load,
                  uint32_t *budget_us, uint32_t *check_every) {
  *budget_us = 0;
  *check_every = 1;
  if (s->fixed || s->items_seen == 0 || n < 2) return;
  double ns = BUDGET_TIMES * (double)n * s->item_ns;
  if (ns < BUDGET_MIN_NS) ns = BUDGET_MIN_NS;
  if (load > 1) ns *= load;
  if (ns > 4e9) ns = 4e9;
  *budget_us = (uint32_t)(ns / 1000);
  double every = CHECK_NS / s->item_ns;
  if (every > CHECK_MAX) every = CHECK_MAX;
  if (every > 1) *check_every = (uint32_t)every;
}
