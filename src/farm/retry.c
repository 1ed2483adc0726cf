/* retry.c: items that go round again. A chunk that comes back with failed
 * items (--retries) or with items its worker handed back unrun (a chunk
 * that overran its time budget) waits (state S_RETRY) while they are sent
 * again: a failed item alone, to a rank of another host (else another rank)
 * where there is one; handed-back items in pieces spread over the ranks,
 * each of which may hand back again.
 * The answers are kept as overrides and merged into the chunk's result
 * before it is handed on. These sends use slots of their own, so a chunk
 * waiting at the head of the ordered output can never starve them of room. */
#include <stdlib.h>
#include <string.h>

#include "farm/master.h"

int mr__retry_setup(master *m) {
  /* also for items handed back unrun, which go round the same way */
  m->nrslots = (uint32_t)(2 * m->ntargets + 2);
  m->rslots = calloc(m->nrslots, sizeof *m->rslots);
  return m->rslots ? 0 : MR_ENOMEM;
}

void mr__retry_forget(slot *s) {
  for (size_t i = 0; i < s->novr; i++) mr_buf_free(&s->ovr[i].out);
  free(s->ovr);
  s->ovr = NULL;
  s->novr = s->ovr_cap = 0;
}

void mr__retry_teardown(master *m) {
  for (uint32_t i = 0; i < m->nrslots; i++) {
    mr_buf_free(&m->rslots[i].task.work);
    mr_buf_free(&m->rslots[i].task.result);
  }
  free(m->rslots);
  free(m->queue);
}

static int enqueue(master *m, uint32_t parent, uint32_t pos, uint32_t count,
                   int attempt, int avoid) {
  if (m->qhead + m->qlen == m->qcap) {
    if (m->qhead > 0) { /* reuse the consumed front */
      memmove(m->queue, m->queue + m->qhead, m->qlen * sizeof *m->queue);
      m->qhead = 0;
    } else {
      size_t cap = m->qcap ? 2 * m->qcap : 64;
      retry_req *q = realloc(m->queue, cap * sizeof *q);
      if (!q) return MR_ENOMEM;
      m->queue = q;
      m->qcap = cap;
    }
  }
  m->queue[m->qhead + m->qlen++] = (retry_req){parent, pos, count, attempt, avoid};
  return 0;
}

/* Handed-back items are sent again unless the run is draining or halted
 * at once (or sure to be); a halt "soon" still finishes them, as it does
 * queued chunks. */
static int resend_unrun(const master *m) {
  return !m->draining && !m->halted_now && !m->halt_due && !m->rc;
}

/* Does an item that came back with this status go round again? */
static int goes_again(const master *m, int status, int attempt) {
  if (status == MR__NOTRUN) return resend_unrun(m);
  return status && !m->stopping && mr__retriable(status) &&
         attempt < m->cfg->retries;
}

/* Queues items from..from+len-1 of the parent, handed back unrun, in
 * pieces that start with single items and double every round over the
 * ranks: the slow items that made the chunk overrun are likely near the
 * front, and go to different ranks; the rest goes in fewer messages. */
static int enqueue_unrun(master *m, uint32_t parent, uint32_t from,
                         uint32_t len, int attempt) {
  uint32_t ways = (uint32_t)m->ntargets;
  uint32_t cap = (len + 2 * ways - 1) / (2 * ways), piece = 1, k = 0;
  for (uint32_t p = from; p < from + len; p += piece) {
    if (k++ == ways) {
      k = 1;
      if (piece < cap) piece *= 2;
    }
    if (piece > from + len - p) piece = from + len - p;
    if (enqueue(m, parent, p, piece, attempt, -1)) return MR_ENOMEM;
  }
  return 0;
}

/* Queues what came back of items pos.. of the parent (n records) and goes
 * round again: runs of unrun items, and failures worth retrying. Adds to
 * *queued the items queued. */
static int plan_items(master *m, uint32_t parent, uint32_t pos,
                      const mr__rec *rec, uint32_t n, int attempt, int ran_on,
                      uint32_t *queued) {
  for (uint32_t i = 0; i < n; i++) {
    if (!goes_again(m, rec[i].status, attempt)) continue;
    if (rec[i].status == MR__NOTRUN) {
      uint32_t j = i;
      while (j < n && rec[j].status == MR__NOTRUN) j++;
      if (enqueue_unrun(m, parent, pos + i, j - i, attempt)) return MR_ENOMEM;
      *queued += j - i;
      i = j - 1;
    } else {
      if (enqueue(m, parent, pos + i, 1, attempt + 1, ran_on)) return MR_ENOMEM;
      (*queued)++;
    }
  }
  return 0;
}

int mr__retry_plan(master *m, slot *s) {
  const mr__result_hdr *h = (const mr__result_hdr *)(void *)s->task.result.data;
  if (h->nfail == 0) return 0;
  uint32_t queued = 0;
  if (plan_items(m, (uint32_t)(s - m->slots), 0, result_recs(h), h->n, 0,
                 s->target, &queued))
    mr__fail(m, MR_ENOMEM);
  s->pending = (int)queued;
  if (!queued) return 0;
  s->state = S_RETRY;
  return 1;
}

int mr__retry_pending(const master *m) { return m->qlen > 0; }

/* Where an attempt goes: the rank with room and the fewest chunks (an
 * attempt queued behind many holds its chunk's place in the output); after
 * a failure on `avoid`, a rank on another node (a host's own trouble, a
 * missing tool or a full disk, follows its ranks), waiting for one if there
 * is one; else another rank on the same node; the rank that failed only
 * when there is no other. */
static int pick_target(master *m, int avoid, int local) {
  int best = -1, fallback = -1, same_node = -1, elsewhere = 0;
  uint64_t left = mr__left(m);
  for (int k = 0; k < m->ntargets; k++) {
    int ti = (m->rr + k) % m->ntargets;
    target *t = &m->targets[ti];
    int other = avoid >= 0 && t->node != m->targets[avoid].node;
    elsewhere |= other; /* rank 0 too: a retry waits for its pass */
    if (t->rank == 0 && !local && m->ntargets > 1) continue;
    /* a rank holding more of short chunks (mr__depth) takes a retry as
     * soon as it takes a new chunk, not when it is down to t->depth */
    int most = mr__depth(m, ti, left);
    if (t->inflight >= (most > t->depth ? most : t->depth)) continue;
    if ((avoid < 0 || other) && t->inflight == 0) return ti; /* none better */
    int *pick = avoid < 0 || other ? &best : ti != avoid ? &same_node : &fallback;
    if (*pick < 0 || t->inflight < m->targets[*pick].inflight) *pick = ti;
  }
  if (best >= 0) return best;
  if (elsewhere) return -1;
  if (same_node >= 0) return same_node;
  return m->ntargets == 1 ? fallback : -1;
}

int mr__retry_dispatch(master *m, int local) {
  int sent = 0;
  while (m->qlen && !m->rc) {
    rslot *rs = NULL;
    for (uint32_t i = 0; i < m->nrslots && !rs; i++)
      if (!m->rslots[i].busy) rs = &m->rslots[i];
    if (!rs) break;
    retry_req *q = &m->queue[m->qhead];
    int ti = pick_target(m, q->avoid, local);
    if (ti < 0) break;
    /* a handed-back piece is cut to a chunk's worth at the cost measured
     * now: once the slow items that overran come back, the next pieces
     * are single items (the doubling planned at hand-back time had sent
     * 32 of them, 0.15 s, to one rank of two) */
    uint32_t count = q->count, most = mr__sizer_items_per_chunk(&m->sizer);
    if (q->avoid < 0 && count > most) count = most;
    slot *parent = &m->slots[q->parent];
    const mr__work_hdr *ph = (const mr__work_hdr *)(const void *)parent->task.work.data;
    const char *text, *p = work_items(parent->task.work.data);
    size_t len;
    mr__work_begin(&rs->task.work, ph->id, ph->seq0 + q->pos,
               ph->flags | MR__WORK_URGENT,
               m->nslots + (uint32_t)(rs - m->rslots), ph->timeout_s);
    int rc = 0;
    for (uint32_t i = 0; i < q->pos + count && !rc; i++) {
      int code = work_next(&p, &text, &len);
      if (i >= q->pos) rc = work_add(&rs->task.work, text, len, code);
    }
    if (rc) {
      mr__fail(m, rc);
      break;
    }
    mr__work_hdr *wh = work_hdr(&rs->task.work);
    mr__sizer_budget(&m->sizer, count, m->node_load, &wh->budget_us,
                 &wh->check_every);
    wh->halt_left = mr__halt_left(m);
    rs->parent = q->parent;
    rs->pos = q->pos;
    rs->count = count;
    rs->attempt = q->attempt;
    rs->target = ti;
    rs->busy = 1;
    rs->task.slot = m->nslots + (uint32_t)(rs - m->rslots);
    if (count < q->count) { /* the rest stays at the front */
      q->pos += count;
      q->count -= count;
    } else {
      m->qhead++;
      m->qlen--;
    }
    if (rs->attempt > 0) m->st.retried++;
    rc = mr__send(m, &rs->task, &rs->req, ti);
    if (rc) {
      mr__fail(m, rc);
      break;
    }
    sent++;
  }
  return sent;
}

/* Where each item's answer came from, when some came from elsewhere than
 * the chunk's own rank (the joblog names the host that gave the answer). */
static int note_ranks(master *m, slot *s, const override **at, uint32_t n) {
  int own = m->targets[s->target].rank;
  uint32_t i = 0;
  while (i < n && (!at[i] || at[i]->rank == own)) i++;
  if (i == n) return 0;
  if (!s->ranks) s->ranks = malloc(n * sizeof *s->ranks);
  if (!s->ranks) return MR_ENOMEM;
  for (i = 0; i < n; i++) s->ranks[i] = at[i] ? at[i]->rank : own;
  return 0;
}

/* Rebuilds the slot's result with the overrides in place. */
void mr__retry_finish(master *m, slot *s) {
  s->pending = 0;
  if (!s->novr) return;
  const char *old = s->task.result.data;
  const mr__result_hdr *h = (const mr__result_hdr *)(const void *)old;
  const mr__rec *rec = result_recs(old);
  const char *data = mr__result_data(old);
  size_t pre = (size_t)(data - old), total = pre;
  /* the override of each position, if any: a chunk handed back whole has
   * one for nearly every item */
  const override **at = calloc(h->n, sizeof *at);
  if (!at) {
    mr__fail(m, MR_ENOMEM);
    return;
  }
  for (size_t k = 0; k < s->novr; k++)
    if (s->ovr[k].pos < h->n) at[s->ovr[k].pos] = &s->ovr[k];
  if (note_ranks(m, s, at, h->n)) {
    free(at);
    mr__fail(m, MR_ENOMEM);
    return;
  }
  for (uint32_t i = 0; i < h->n; i++) total += at[i] ? at[i]->out.len : rec[i].len;
  mr_buf b = {0};
  if (mr_buf_reserve(&b, total)) { /* reserved once: no pointer moves */
    free(at);
    mr__fail(m, MR_ENOMEM);
    return;
  }
  mr_buf_append(&b, old, pre);
  mr__result_hdr *nh = (mr__result_hdr *)(void *)b.data;
  mr__rec *nrec = (mr__rec *)(void *)(b.data + sizeof *nh);
  mr__times *nt = mr__result_times(old) ? (mr__times *)(void *)(nrec + h->n) : NULL;
  nh->nfail = 0;
  for (uint32_t i = 0; i < h->n; i++) {
    const override *o = at[i];
    if (o) {
      mr_buf_append(&b, o->out.data ? o->out.data : "", o->out.len);
      nrec[i].status = o->status;
      nrec[i].len = (uint32_t)o->out.len;
      if (nt) nt[i] = o->times;
    } else {
      mr_buf_append(&b, data, rec[i].len);
    }
    data += rec[i].len;
    if (nrec[i].status) nh->nfail++;
  }
  free(at);
  m->held += b.len;
  m->held -= s->result_len;
  for (size_t k = 0; k < s->novr; k++) m->held -= s->ovr[k].out.len;
  mr_buf_free(&s->task.result);
  s->task.result = b;
  s->result_len = b.len;
  mr__retry_forget(s);
}

/* Item i of an attempt's result is the final answer for the parent's
 * position pos. */
static void answer(master *m, slot *parent, uint32_t pos, int rank,
                   const void *result, uint32_t i, const char *data) {
  const mr__rec *rec = result_recs(result);
  const mr__times *t = mr__result_times(result);
  if (parent->novr == parent->ovr_cap) {
    size_t cap = parent->ovr_cap ? 2 * parent->ovr_cap : 4;
    override *o = realloc(parent->ovr, cap * sizeof *o);
    if (!o) {
      mr__fail(m, MR_ENOMEM);
      return;
    }
    parent->ovr = o;
    parent->ovr_cap = cap;
  }
  override *o = &parent->ovr[parent->novr++];
  memset(o, 0, sizeof *o);
  o->pos = pos;
  o->rank = rank;
  o->status = rec[i].status;
  if (t) o->times = t[i];
  if (mr_buf_append(&o->out, data, rec[i].len)) mr__fail(m, MR_ENOMEM);
  m->held += o->out.len; /* waits for its chunk like any result */
}

static void parent_answered(master *m, slot *parent, uint32_t items) {
  parent->pending -= (int)items;
  if (parent->pending > 0) return;
  mr__retry_finish(m, parent);
  mr__slot_done(m, parent);
}

int mr__retry_arrived(master *m, mr_buf *buf, size_t len) {
  (void)len;
  const mr__result_hdr *h = (const mr__result_hdr *)(void *)buf->data;
  uint32_t ri = h->slot - m->nslots;
  if (ri >= m->nrslots || !m->rslots[ri].busy) return MR_EMPI;
  rslot *rs = &m->rslots[ri];
  if (h->n != rs->count) return MR_EMPI;
  if (m->targets[rs->target].rank) MPI_Wait(&rs->req, MPI_STATUS_IGNORE);
  m->targets[rs->target].inflight--;
  m->inflight--;
  rs->busy = 0;
  slot *parent = &m->slots[rs->parent];
  const mr__rec *rec = result_recs(buf->data);
  uint32_t unrun = mr__result_unrun(buf->data);
  m->st.given_back += unrun;
  mr__observe(m, rs->target, h->n - unrun, h->busy_ns);
  m->st.busy_ns += h->busy_ns;
  mr__halt_foresee(m, h);
  /* what goes round again stays pending; the rest is answered */
  uint32_t queued = 0;
  if (plan_items(m, rs->parent, rs->pos, rec, h->n, rs->attempt, rs->target,
                 &queued))
    return MR_ENOMEM;
  const char *data = mr__result_data(buf->data);
  uint32_t answered = 0;
  for (uint32_t i = 0; i < h->n; i++) {
    if (!goes_again(m, rec[i].status, rs->attempt)) {
      answer(m, parent, rs->pos + i, m->targets[rs->target].rank, buf->data, i,
             data);
      answered++;
    }
    data += rec[i].len;
  }
  if (answered) parent_answered(m, parent, answered);
  return 0;
}

void mr__retry_abandon(master *m) {
  size_t n = m->qlen, kept = 0;
  int keep_unrun = resend_unrun(m);
  for (size_t i = 0; i < n; i++) {
    retry_req q = m->queue[m->qhead + i];
    if (q.avoid < 0 && keep_unrun) m->queue[m->qhead + kept++] = q;
    else parent_answered(m, &m->slots[q.parent], q.count);
  }
  m->qlen = kept;
}

void mr__retry_wait_sends(master *m) {
  for (uint32_t i = 0; i < m->nrslots; i++)
    if (m->rslots[i].busy && m->targets[m->rslots[i].target].rank)
      MPI_Wait(&m->rslots[i].req, MPI_STATUS_IGNORE);
}
