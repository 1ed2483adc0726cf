/* retry.c: items that go round again (retry.h). A failed item goes alone,
 * to a rank of another host (else another rank) where there is one;
 * handed-back items go in pieces spread over the ranks, each of which may
 * hand back again. The answers wait as overrides of their parent's records
 * and are merged into its result before it is handed on. */
#include "farm/retry.h"

#include <stdlib.h>
#include <string.h>

struct mr__retry_answer { /* a retried item's final answer */
  uint32_t pos;
  int32_t status;
  int rank; /* where it was computed */
  mr__times times;
  mr_buf out;
};

int mr__retriable(int status) {
  return status != 0 && status != MR_EINVAL && status != MR_ETOOLONG &&
         status != MR_ENUL && status != MR_ESKIPPED && status != MR_ENOMEM;
}

int mr__retry_init(mr__retry *r, uint32_t nparents, int ntargets, int retries) {
  memset(r, 0, sizeof *r);
  r->retries = retries;
  r->ntargets = ntargets;
  r->nparents = nparents;
  /* also for items handed back unrun, which go round the same way */
  r->nattempts = (uint32_t)(2 * ntargets + 2);
  r->parents = calloc(nparents, sizeof *r->parents);
  r->attempts = calloc(r->nattempts, sizeof *r->attempts);
  r->done = malloc(nparents * sizeof *r->done);
  return r->parents && r->attempts && r->done ? 0 : MR_ENOMEM;
}

static void forget(mr__retry *r, mr__retry_parent *p) {
  for (size_t i = 0; i < p->nans; i++) {
    r->held -= p->ans[i].out.len;
    mr_buf_free(&p->ans[i].out);
  }
  free(p->ans);
  p->ans = NULL;
  p->nans = p->cap = 0;
}

void mr__retry_free(mr__retry *r) {
  for (uint32_t i = 0; r->parents && i < r->nparents; i++) forget(r, &r->parents[i]);
  free(r->parents);
  free(r->attempts);
  free(r->queue);
  free(r->done);
  memset(r, 0, sizeof *r);
}

static int enqueue(mr__retry *r, uint32_t parent, uint32_t pos, uint32_t count,
                   int attempt, int avoid) {
  if (r->qhead + r->qlen == r->qcap) {
    if (r->qhead > 0) { /* reuse the consumed front */
      memmove(r->queue, r->queue + r->qhead, r->qlen * sizeof *r->queue);
      r->qhead = 0;
    } else {
      size_t cap = r->qcap ? 2 * r->qcap : 64;
      mr__retry_req *q = realloc(r->queue, cap * sizeof *q);
      if (!q) return MR_ENOMEM;
      r->queue = q;
      r->qcap = cap;
    }
  }
  r->queue[r->qhead + r->qlen++] = (mr__retry_req){parent, pos, count, attempt, avoid};
  return 0;
}

/* Does item seq, that came back with this status, go round again? */
static int goes_again(const mr__retry *r, mr__retry_stop stop, int status, int attempt,
                      uint64_t seq) {
  if (status == MR__NOTRUN) return stop.keep_unrun || seq < stop.unrun_below;
  return status && !stop.stopping && mr__retriable(status) && attempt < r->retries;
}

/* Queues items from..from+len-1 of the parent, handed back unrun, in
 * pieces that start with single items and double every round over the
 * ranks: the slow items that made the chunk overrun are likely near the
 * front, and go to different ranks; the rest goes in fewer messages. */
static int enqueue_unrun(mr__retry *r, uint32_t parent, uint32_t from,
                         uint32_t len, int attempt) {
  uint32_t ways = (uint32_t)r->ntargets;
  uint32_t cap = (len + 2 * ways - 1) / (2 * ways), piece = 1, k = 0;
  for (uint32_t p = from; p < from + len; p += piece) {
    if (k++ == ways) {
      k = 1;
      if (piece < cap) piece *= 2;
    }
    if (piece > from + len - p) piece = from + len - p;
    if (enqueue(r, parent, p, piece, attempt, -1)) return MR_ENOMEM;
  }
  return 0;
}

/* Queues what came back of items pos.. of the parent (n records) and goes
 * round again: runs of unrun items, and failures worth retrying. Adds to
 * *queued the items queued. */
static int plan_items(mr__retry *r, mr__retry_stop stop, uint32_t parent,
                      uint32_t pos, const mr__rec *rec, uint32_t n, int attempt,
                      int ran_on, uint32_t *queued) {
  uint64_t seq0 = r->parents[parent].seq0 + pos;
  for (uint32_t i = 0; i < n; i++) {
    if (!goes_again(r, stop, rec[i].status, attempt, seq0 + i)) continue;
    if (rec[i].status == MR__NOTRUN) {
      uint32_t j = i;
      while (j < n && rec[j].status == MR__NOTRUN &&
             goes_again(r, stop, rec[j].status, attempt, seq0 + j))
        j++;
      if (enqueue_unrun(r, parent, pos + i, j - i, attempt)) return MR_ENOMEM;
      *queued += j - i;
      i = j - 1;
    } else {
      if (enqueue(r, parent, pos + i, 1, attempt + 1, ran_on)) return MR_ENOMEM;
      (*queued)++;
    }
  }
  return 0;
}

int mr__retry_plan(mr__retry *r, uint32_t parent, uint64_t seq0, const void *result,
                   int ran_on, mr__retry_stop stop, uint32_t *queued) {
  const mr__result_hdr *h = result;
  *queued = 0;
  r->parents[parent].seq0 = seq0;
  if (h->nfail == 0) return 0;
  int rc = plan_items(r, stop, parent, 0, result_recs(h), h->n, 0, ran_on, queued);
  r->parents[parent].pending = (int)*queued;
  return rc;
}

int mr__retry_pending(const mr__retry *r) { return r->qlen > 0; }

/* Where an attempt goes: the target with room and the fewest chunks (an
 * attempt queued behind many holds its chunk's place in the output); after
 * a failure on `avoid`, one on another node (a host's own trouble, a
 * missing tool or a full disk, follows its ranks), waiting for one if there
 * is one; else another one on the same node; the one that failed only
 * when there is no other. */
static int pick_target(const mr__retry *r, const mr__retry_place *pl, int rr,
                       int avoid) {
  int best = -1, fallback = -1, same_node = -1, elsewhere = 0;
  for (int k = 0; k < r->ntargets; k++) {
    int ti = (rr + k) % r->ntargets;
    const mr__retry_place *t = &pl[ti];
    int other = avoid >= 0 && t->node != pl[avoid].node;
    elsewhere |= other; /* a skipped one too: a retry waits for its pass */
    if (t->skip || t->inflight >= t->most) continue;
    if ((avoid < 0 || other) && t->inflight == 0) return ti; /* none better */
    int *pick = avoid < 0 || other ? &best : ti != avoid ? &same_node : &fallback;
    if (*pick < 0 || t->inflight < pl[*pick].inflight) *pick = ti;
  }
  if (best >= 0) return best;
  if (elsewhere) return -1;
  if (same_node >= 0) return same_node;
  return r->ntargets == 1 ? fallback : -1;
}

int mr__retry_next(mr__retry *r, mr__retry_place *places, int rr, uint32_t piece_max) {
  if (!r->qlen) return -1;
  uint32_t id = 0;
  while (id < r->nattempts && r->attempts[id].busy) id++;
  if (id == r->nattempts) return -1;
  mr__retry_req *q = &r->queue[r->qhead];
  int ti = pick_target(r, places, rr, q->avoid);
  if (ti < 0) return -1;
  /* a handed-back piece is cut to a chunk's worth at the cost measured
   * now: once the slow items that overran come back, the next pieces
   * are single items (the doubling planned at hand-back time had sent
   * 32 of them, 0.15 s, to one rank of two) */
  uint32_t count = q->count;
  if (q->avoid < 0 && count > piece_max) count = piece_max;
  r->attempts[id] = (mr__retry_attempt){q->parent, q->pos, count, q->attempt, ti, 1};
  if (count < q->count) { /* the rest stays at the front */
    q->pos += count;
    q->count -= count;
  } else {
    r->qhead++;
    r->qlen--;
  }
  places[ti].inflight++;
  return (int)id;
}

const mr__retry_attempt *mr__retry_attempt_of(const mr__retry *r, uint32_t id) {
  return id < r->nattempts && r->attempts[id].busy ? &r->attempts[id] : NULL;
}

static void parent_answered(mr__retry *r, uint32_t parent, uint32_t items) {
  mr__retry_parent *p = &r->parents[parent];
  p->pending -= (int)items;
  if (p->pending > 0) return;
  r->done[(r->dhead + r->dlen++) % r->nparents] = parent;
}

int mr__retry_done_next(mr__retry *r) {
  if (!r->dlen) return -1;
  uint32_t parent = r->done[r->dhead];
  r->dhead = (r->dhead + 1) % r->nparents;
  r->dlen--;
  return (int)parent;
}

/* Item i of an attempt's result is the final answer for the parent's
 * position pos. */
static int answer(mr__retry *r, mr__retry_parent *p, uint32_t pos, int rank,
                  const void *result, uint32_t i, const char *data) {
  const mr__rec *rec = result_recs(result);
  const mr__times *t = mr__result_times(result);
  if (p->nans == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 4;
    mr__retry_answer *a = realloc(p->ans, cap * sizeof *a);
    if (!a) return MR_ENOMEM;
    p->ans = a;
    p->cap = cap;
  }
  mr__retry_answer *a = &p->ans[p->nans++];
  memset(a, 0, sizeof *a);
  a->pos = pos;
  a->rank = rank;
  a->status = rec[i].status;
  if (t) a->times = t[i];
  int rc = mr_buf_append(&a->out, data, rec[i].len) ? MR_ENOMEM : 0;
  r->held += a->out.len; /* waits for its chunk like any result */
  return rc;
}

int mr__retry_arrived(mr__retry *r, uint32_t id, const void *result, int rank,
                      mr__retry_stop stop) {
  mr__retry_attempt a = r->attempts[id];
  r->attempts[id].busy = 0;
  const mr__result_hdr *h = result;
  const mr__rec *rec = result_recs(result);
  /* what goes round again stays pending; the rest is answered */
  uint32_t queued = 0;
  if (plan_items(r, stop, a.parent, a.pos, rec, h->n, a.attempt, a.target, &queued))
    return MR_ENOMEM;
  mr__retry_parent *p = &r->parents[a.parent];
  const char *data = mr__result_data(result);
  uint32_t answered = 0;
  int rc = 0;
  for (uint32_t i = 0; i < h->n; i++) {
    if (!goes_again(r, stop, rec[i].status, a.attempt, p->seq0 + a.pos + i)) {
      int e = answer(r, p, a.pos + i, rank, result, i, data);
      if (e && !rc) rc = e;
      answered++;
    }
    data += rec[i].len;
  }
  if (answered) parent_answered(r, a.parent, answered);
  return rc;
}

void mr__retry_abandon(mr__retry *r, mr__retry_stop stop) {
  size_t n = r->qlen, kept = 0;
  for (size_t i = 0; i < n; i++) {
    mr__retry_req q = r->queue[r->qhead + i];
    /* a piece that starts before the halt goes whole: what it holds past
     * the halt comes back unrun again, and stays so */
    if (q.avoid < 0 && (stop.keep_unrun || r->parents[q.parent].seq0 + q.pos < stop.unrun_below))
      r->queue[r->qhead + kept++] = q;
    else parent_answered(r, q.parent, q.count);
  }
  r->qlen = kept;
}

/* Where each item's answer came from, when some came from elsewhere than
 * the chunk's own rank (the joblog names the host that gave the answer). */
static int note_ranks(const mr__retry_answer **at, uint32_t n, int own, int **ranks) {
  uint32_t i = 0;
  while (i < n && (!at[i] || at[i]->rank == own)) i++;
  if (i == n) return 0;
  if (!*ranks) *ranks = malloc(n * sizeof **ranks);
  if (!*ranks) return MR_ENOMEM;
  for (i = 0; i < n; i++) (*ranks)[i] = at[i] ? at[i]->rank : own;
  return 0;
}

/* The result of old with the answers at their positions, in b. */
static int merge(const void *old, const mr__retry_answer **at, mr_buf *b) {
  const mr__result_hdr *h = old;
  const mr__rec *rec = result_recs(old);
  const char *data = mr__result_data(old);
  size_t pre = (size_t)(data - (const char *)old), total = pre;
  for (uint32_t i = 0; i < h->n; i++) total += at[i] ? at[i]->out.len : rec[i].len;
  if (mr_buf_reserve(b, total)) return MR_ENOMEM; /* once: no pointer moves */
  mr_buf_append(b, old, pre);
  mr__result_hdr *nh = (mr__result_hdr *)(void *)b->data;
  mr__rec *nrec = (mr__rec *)(void *)(b->data + sizeof *nh);
  mr__times *nt = mr__result_times(old) ? (mr__times *)(void *)(nrec + h->n) : NULL;
  nh->nfail = 0;
  for (uint32_t i = 0; i < h->n; i++) {
    const mr__retry_answer *o = at[i];
    if (o) {
      mr_buf_append(b, o->out.data ? o->out.data : "", o->out.len);
      nrec[i].status = o->status;
      nrec[i].len = (uint32_t)o->out.len;
      if (nt) nt[i] = o->times;
    } else {
      mr_buf_append(b, data, rec[i].len);
    }
    data += rec[i].len;
    if (nrec[i].status) nh->nfail++;
  }
  return 0;
}

int mr__retry_finish(mr__retry *r, uint32_t parent, mr_buf *result, int own_rank,
                     int **ranks) {
  mr__retry_parent *p = &r->parents[parent];
  p->pending = 0;
  if (!p->nans) return 0;
  const mr__result_hdr *h = (const mr__result_hdr *)(const void *)result->data;
  /* the answer of each position, if any (the latest): a chunk handed back
   * whole has one for nearly every item */
  const mr__retry_answer **at = calloc(h->n, sizeof *at);
  if (!at) return MR_ENOMEM;
  for (size_t k = 0; k < p->nans; k++)
    if (p->ans[k].pos < h->n) at[p->ans[k].pos] = &p->ans[k];
  mr_buf b = {0};
  int rc = note_ranks(at, h->n, own_rank, ranks);
  if (!rc) rc = merge(result->data, at, &b);
  free(at);
  if (rc) {
    mr_buf_free(&b);
    return rc;
  }
  mr_buf_free(result);
  *result = b;
  forget(r, p);
  return 1;
}
