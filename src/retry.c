/* retry.c: --retries. A chunk that comes back with failed items waits
 * (state S_RETRY) while each such item is sent again alone, to another rank
 * where there is one; the answers are kept as overrides and merged into the
 * chunk's result before it is handed on. Retry attempts use slots of their
 * own, so a chunk waiting at the head of the ordered output can never starve
 * them of room. */
#include <stdlib.h>
#include <string.h>

#include "master.h"

int retry_setup(master *m) {
  if (m->cfg->retries <= 0) return 0;
  m->nrslots = (uint32_t)(2 * m->ntargets + 2);
  m->rslots = calloc(m->nrslots, sizeof *m->rslots);
  return m->rslots ? 0 : MR_ENOMEM;
}

void retry_forget(slot *s) {
  for (size_t i = 0; i < s->novr; i++) mr_buf_free(&s->ovr[i].out);
  free(s->ovr);
  s->ovr = NULL;
  s->novr = s->ovr_cap = 0;
}

void retry_teardown(master *m) {
  for (uint32_t i = 0; i < m->nrslots; i++) {
    mr_buf_free(&m->rslots[i].task.work);
    mr_buf_free(&m->rslots[i].task.result);
  }
  free(m->rslots);
  free(m->queue);
}

static int enqueue(master *m, uint32_t parent, uint32_t pos, int attempt,
                   int avoid) {
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
  m->queue[m->qhead + m->qlen++] = (retry_req){parent, pos, attempt, avoid};
  return 0;
}

int retry_plan(master *m, slot *s) {
  if (m->cfg->retries <= 0 || m->stopping) return 0;
  const mr__result_hdr *h = (const mr__result_hdr *)(void *)s->task.result.data;
  if (h->nfail == 0) return 0;
  const mr__rec *rec = result_recs(h);
  uint32_t idx = (uint32_t)(s - m->slots);
  s->pending = 0;
  for (uint32_t i = 0; i < h->n; i++) {
    if (!mr__retriable(rec[i].status)) continue;
    if (enqueue(m, idx, i, 1, s->target)) {
      mr__fail(m, MR_ENOMEM);
      break;
    }
    s->pending++;
  }
  if (!s->pending) return 0;
  s->state = S_RETRY;
  return 1;
}

int retry_pending(const master *m) { return m->qlen > 0; }

/* The pos-th item of a work message. */
static int work_item_at(const void *work, uint32_t pos, const char **text,
                        size_t *len) {
  const char *p = work_items(work);
  int code = 0;
  for (uint32_t i = 0; i <= pos; i++) code = work_next(&p, text, len);
  return code;
}

static int pick_target(master *m, int avoid, int local) {
  int fallback = -1;
  for (int k = 0; k < m->ntargets; k++) {
    int ti = (m->rr + k) % m->ntargets;
    target *t = &m->targets[ti];
    if (t->inflight >= t->depth) continue;
    if (t->rank == 0 && !local && m->ntargets > 1) continue;
    if (ti != avoid) return ti;
    fallback = ti;
  }
  /* the rank that failed, only when there is no other */
  return m->ntargets == 1 ? fallback : -1;
}

int retry_dispatch(master *m, int local) {
  int sent = 0;
  while (m->qlen && !m->rc) {
    rslot *rs = NULL;
    for (uint32_t i = 0; i < m->nrslots && !rs; i++)
      if (!m->rslots[i].busy) rs = &m->rslots[i];
    if (!rs) break;
    retry_req *q = &m->queue[m->qhead];
    int ti = pick_target(m, q->avoid, local);
    if (ti < 0) break;
    slot *parent = &m->slots[q->parent];
    const mr__work_hdr *ph = (const mr__work_hdr *)(const void *)parent->task.work.data;
    const char *text;
    size_t len;
    int code = work_item_at(parent->task.work.data, q->pos, &text, &len);
    work_begin(&rs->task.work, ph->id, ph->seq0 + q->pos, ph->flags,
               m->nslots + (uint32_t)(rs - m->rslots), ph->timeout_s);
    if (work_add(&rs->task.work, text, len, code)) {
      mr__fail(m, MR_ENOMEM);
      break;
    }
    rs->parent = q->parent;
    rs->pos = q->pos;
    rs->attempt = q->attempt;
    rs->target = ti;
    rs->busy = 1;
    rs->task.slot = m->nslots + (uint32_t)(rs - m->rslots);
    m->qhead++;
    m->qlen--;
    m->st.retried++;
    int rc = mr__send(m, &rs->task, &rs->req, ti);
    if (rc) {
      mr__fail(m, rc);
      break;
    }
    sent++;
  }
  return sent;
}

static const override *override_at(const slot *s, uint32_t pos) {
  for (size_t k = 0; k < s->novr; k++)
    if (s->ovr[k].pos == pos) return &s->ovr[k];
  return NULL;
}

/* Rebuilds the slot's result with the overrides in place. */
void retry_finish(master *m, slot *s) {
  s->pending = 0;
  if (!s->novr) return;
  const char *old = s->task.result.data;
  const mr__result_hdr *h = (const mr__result_hdr *)(const void *)old;
  const mr__rec *rec = result_recs(old);
  const char *data = result_data(old);
  size_t pre = (size_t)(data - old), total = pre;
  for (uint32_t i = 0; i < h->n; i++) {
    const override *o = override_at(s, i);
    total += o ? o->out.len : rec[i].len;
  }
  mr_buf b = {0};
  if (mr_buf_reserve(&b, total)) { /* reserved once: no pointer moves */
    mr__fail(m, MR_ENOMEM);
    return;
  }
  mr_buf_append(&b, old, pre);
  mr__result_hdr *nh = (mr__result_hdr *)(void *)b.data;
  mr__rec *nrec = (mr__rec *)(void *)(b.data + sizeof *nh);
  mr__times *nt = result_times(old) ? (mr__times *)(void *)(nrec + h->n) : NULL;
  nh->nfail = 0;
  for (uint32_t i = 0; i < h->n; i++) {
    const override *o = override_at(s, i);
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
  m->held += b.len;
  m->held -= s->result_len;
  mr_buf_free(&s->task.result);
  s->task.result = b;
  s->result_len = b.len;
  retry_forget(s);
}

static void answer(master *m, slot *parent, uint32_t pos, const void *result) {
  const mr__rec *rec = result_recs(result);
  const mr__times *t = result_times(result);
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
  o->status = rec[0].status;
  if (t) o->times = t[0];
  mr_buf_append(&o->out, result_data(result), rec[0].len);
}

static void parent_answered(master *m, slot *parent) {
  if (--parent->pending > 0) return;
  retry_finish(m, parent);
  mr__slot_done(m, parent);
}

int retry_arrived(master *m, mr_buf *buf, size_t len) {
  (void)len;
  const mr__result_hdr *h = (const mr__result_hdr *)(void *)buf->data;
  uint32_t ri = h->slot - m->nslots;
  if (ri >= m->nrslots || !m->rslots[ri].busy) return MR_EMPI;
  rslot *rs = &m->rslots[ri];
  if (m->targets[rs->target].rank) MPI_Wait(&rs->req, MPI_STATUS_IGNORE);
  m->targets[rs->target].inflight--;
  m->inflight--;
  rs->busy = 0;
  slot *parent = &m->slots[rs->parent];
  int status = result_recs(buf->data)[0].status;
  if (status && mr__retriable(status) && rs->attempt < m->cfg->retries &&
      !m->stopping) {
    if (enqueue(m, rs->parent, rs->pos, rs->attempt + 1, rs->target))
      return MR_ENOMEM;
    return 0;
  }
  answer(m, parent, rs->pos, buf->data);
  parent_answered(m, parent);
  return 0;
}

void retry_abandon(master *m) {
  while (m->qlen) {
    retry_req q = m->queue[m->qhead++];
    m->qlen--;
    parent_answered(m, &m->slots[q.parent]);
  }
}

void retry_wait_sends(master *m) {
  for (uint32_t i = 0; i < m->nrslots; i++)
    if (m->rslots[i].busy && m->targets[m->rslots[i].target].rank)
      MPI_Wait(&m->rslots[i].req, MPI_STATUS_IGNORE);
}
