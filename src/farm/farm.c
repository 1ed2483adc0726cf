/* farm.c: the master side of the farm: read, dispatch, gather, reorder.
 * What goes round again is planned in retry.c; this loop sends it. */
#include "farm/farm.h"

#include <math.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/idle.h"
#include "farm/master.h"

#define DEFAULT_BUDGET (24u << 20)
/* mpirun sends SIGKILL about 1 s after the SIGTERM it forwards: the drain
 * waits this long for chunks in flight, then this long for the goodbyes */
#define DEFAULT_DRAIN_NS 400000000u
#define STOP_WAIT_NS 200000000u
#define FAIL_STOP_WAIT_NS 5000000000u
/* and then this long for the master's own threads, whose chunks the drain
 * has already counted lost: a job that looks at mr_stopping is out by then */
#define POOL_GRACE_NS 100000000u
#define INLINE_CHUNK_NS 20000.0 /* the master computes shorter chunks itself */
#define MASTER_COMPUTE_MAX_WORKERS 16 /* above this the master only dispatches */
#define TIMEOUT_MIN_SAMPLES 3
#define FLUSH_AFTER_NS 1000000u /* the master flushes after waiting this long */
/* --deadline: an item may cost this much more than the mean measured so
 * far (items of 10-100 ms, a mean of 55: 1.25 leaves a last item of up to
 * 69 ms in time, and the cut drops the rest; waiting for every last item
 * to fit would idle the ranks for longer than the cut loses) */
#define DEADLINE_SLACK 1.25

static void master_fail(master *m, int rc) {
  if (!m->rc) m->rc = rc;
}

static int master_setup(master *m) {
  const mr__farm_cfg *cfg = m->cfg;
  int threads = cfg->threads < 1 ? 1 : cfg->threads;
  int nworkers = m->size - 1;
  int local = cfg->master_compute;
  if (local < 0) local = nworkers < MASTER_COMPUTE_MAX_WORKERS;
  if (nworkers == 0) local = 1;
  m->targets = calloc((size_t)m->size, sizeof *m->targets);
  if (!m->targets) return MR_ENOMEM;
  int total_depth = 0;
  if (local) {
    m->targets[m->ntargets++] = (target){0, m->nodes[0], 0, 2 * threads, threads, 0, 0};
    total_depth += 2 * threads;
    m->st.computing += threads;
  }
  for (int r = 1; r < m->size; r++) {
    int d = mr__sizer_rank_depth(threads);
    m->targets[m->ntargets++] = (target){r, m->nodes[r], 0, d, threads, 0, 0};
    total_depth += d;
    m->st.computing += threads;
  }
  /* with short chunks a rank may hold a few more (mr__sizer_depth) */
  m->nslots = (uint32_t)(2 * (total_depth + (m->size - 1) * SIZER_DEPTH_EXTRA) + 4);
  m->slots = calloc(m->nslots, sizeof *m->slots);
  m->free_stack = malloc(m->nslots * sizeof *m->free_stack);
  if (!m->slots || !m->free_stack || mr__ring_init(&m->ring, m->nslots)) return MR_ENOMEM;
  for (uint32_t i = 0; i < m->nslots; i++)
    m->free_stack[m->nfree++] = m->nslots - 1 - i;
  /* Bytes in flight and waiting for their turn: 24 MiB, or 32 KiB per
   * chunk a rank may hold on a large run, where chunks must grow (see
   * sizer.c) for one master to keep up with every rank. */
  size_t budget = (size_t)total_depth * (32u << 10);
  if (budget < DEFAULT_BUDGET) budget = DEFAULT_BUDGET;
  m->budget = cfg->mem_budget ? cfg->mem_budget : budget;
  size_t cap = MR_CHUNK_MAX_BYTES;
  if (nworkers > 64) cap *= (size_t)nworkers / 64;
  if (cap > 16 * MR_CHUNK_MAX_BYTES) cap = 16 * MR_CHUNK_MAX_BYTES;
  /* more ranks than cores on rank 0's node: every rank waits its turn for
   * a core, and smaller chunks keep the master and the tail moving
   * (1,000,000 primes at -np 8 on 2 cores: 0.185 s with 64 KiB chunks,
   * 0.155-0.16 s with 12-32 KiB; -np 2 is fastest with 64 KiB) */
  if (m->node_load > 1) {
    cap = (size_t)((double)cap / sqrt(m->node_load));
    if (cap < MR_CHUNK_MAX_BYTES / 4) cap = MR_CHUNK_MAX_BYTES / 4;
  }
  m->chunk_bytes = m->budget / (2 * (size_t)total_depth);
  if (m->chunk_bytes > cap) m->chunk_bytes = cap;
  if (m->chunk_bytes < 4096) m->chunk_bytes = 4096;
  mr__sizer_init(&m->sizer, cfg->chunksize, m->st.computing);
  mr__sizer_learners(&m->sizer, m->ntargets);
  if (mr__retry_init(&m->retry, m->nslots, m->ntargets, cfg->retries)) return MR_ENOMEM;
  m->atasks = calloc(m->retry.nattempts, sizeof *m->atasks);
  m->areqs = calloc(m->retry.nattempts, sizeof *m->areqs);
  m->places = calloc((size_t)m->ntargets, sizeof *m->places);
  return m->atasks && m->areqs && m->places ? 0 : MR_ENOMEM;
}

static void master_teardown(master *m) {
  for (uint32_t i = 0; m->slots && i < m->nslots; i++) {
    mr_buf_free(&m->slots[i].task.work);
    mr_buf_free(&m->slots[i].task.result);
    free(m->slots[i].tags);
    free(m->slots[i].ranks);
  }
  for (uint32_t i = 0; m->atasks && i < m->retry.nattempts; i++) {
    mr_buf_free(&m->atasks[i].work);
    mr_buf_free(&m->atasks[i].result);
  }
  mr__retry_free(&m->retry);
  free(m->atasks);
  free(m->areqs);
  free(m->places);
  free(m->slots);
  free(m->free_stack);
  mr__ring_free(&m->ring);
  free(m->targets);
  free(m->nodes);
  mr_buf_free(&m->spare);
}

/* ------------------------------------------------------ item timings */

/* Item run times in log-spaced buckets (8 per doubling), for the median
 * that a --timeout P% is measured against. */
static void times_record(master *m, const mr__done *d) {
  const mr__times *t = mr__result_times(d->result);
  const mr__result_hdr *h = d->result;
  if (!t) return;
  const mr__rec *rec = result_recs(d->result);
  for (uint32_t i = 0; i < h->n; i++) {
    if (mr__unfinished(rec[i].status)) continue;
    double ns = t[i].runtime * 1e9;
    int b = ns < 1 ? 0 : (int)(log2(ns) * 8);
    if (b >= MR__TIME_BUCKETS) b = MR__TIME_BUCKETS - 1;
    m->time_hist[b]++;
    m->time_count++;
  }
}

static double median_seconds(const master *m) {
  uint64_t half = (m->time_count + 1) / 2, seen = 0;
  for (int b = 0; b < MR__TIME_BUCKETS; b++) {
    seen += m->time_hist[b];
    if (seen >= half) return exp2((b + 0.5) / 8) * 1e-9;
  }
  return 0;
}

/* The limit the next chunk carries. */
static double chunk_timeout(const master *m) {
  double t = m->cfg->timeout_s;
  if (m->cfg->timeout_pct > 0 && m->time_count >= TIMEOUT_MIN_SAMPLES) {
    double p = median_seconds(m) * m->cfg->timeout_pct / 100;
    if (p < 0.001) p = 0.001;
    if (t <= 0 || p < t) t = p;
  }
  return t;
}

/* ------------------------------------------------------------ observing */

static uint64_t obs_now(const master *m) { return mr__now_ns() - m->t0; }

static void obs_span(master *m, int kind, uint64_t chunk, uint32_t items, uint64_t t0) {
  mr__farm_event e = {0};
  e.kind = kind;
  e.chunk = chunk;
  e.items = items;
  e.t0 = t0;
  e.t1 = obs_now(m);
  m->obs->event(m->obs->ctx, &e);
}

/* A chunk or an attempt came back: what the observer learns of it. */
static void obs_chunk(master *m, const mr__task *task, const mr__result_hdr *h, int rank,
                      int attempt, uint64_t line, uint64_t last_line, uint32_t unrun) {
  mr__farm_event e = {0};
  e.kind = MR__EV_CHUNK;
  e.rank = rank;
  e.attempt = attempt;
  e.chunk = h->id;
  e.items = h->n;
  e.unrun = unrun;
  if (h->nfail) {
    const mr__rec *rec = result_recs(h);
    for (uint32_t i = 0; i < h->n; i++)
      e.failed += rec[i].status != 0 && !mr__unfinished(rec[i].status);
  }
  e.line = line;
  e.last_line = last_line;
  e.t0 = task->sent_ns;
  e.t1 = obs_now(m);
  e.start_wall_ns = h->start_ns;
  e.busy_ns = h->busy_ns;
  m->obs->event(m->obs->ctx, &e);
}

/* ------------------------------------------------------------ emitting */

static void slot_release(master *m, slot *s) {
  m->held -= s->result_len;
  s->state = S_FREE;
  free(s->ranks);
  s->ranks = NULL;
  /* a chunk of huge items must not pin its memory for the rest of the run */
  if (s->task.result.cap > 4 * m->chunk_bytes) mr_buf_free(&s->task.result);
  if (s->task.work.cap > 4 * m->chunk_bytes) mr_buf_free(&s->task.work);
  m->free_stack[m->nfree++] = (uint32_t)(s - m->slots);
}

/* A stop: nothing more goes out; what is in flight has until the deadline. */
static void master_drain(master *m) {
  if (m->draining) return;
  m->draining = m->stopping = 1;
  uint64_t d = m->cfg->drain_ns ? m->cfg->drain_ns : DEFAULT_DRAIN_NS;
  m->deadline = mr__now_ns() + d;
}

/* A worker cut an item short for a stop: the signal that reaches every
 * rank (Slurm's, mpirun's SIGUSR1) may reach this one a moment later; so
 * may the deadline, by a clock that runs behind the worker's (hosts agree
 * on the time of day within DEADLINE_SKEW_NS, we assume). */
#define DEADLINE_SKEW_NS 1000000000u
static int master_heard_stop(master *m) {
  for (int i = 0; i < 50 && !m->draining; i++) {
    uint64_t dl = m->cfg->deadline_ns;
    if (m->cfg->stop && *m->cfg->stop) {
      master_drain(m);
    } else if (dl && mr__now_ns() + DEADLINE_SKEW_NS >= dl) {
      m->st.timed_out = 1;
      master_drain(m);
    } else {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
  }
  return m->draining;
}

/* Items the run leaves unfinished (not written, not journaled: --resume
 * redoes them): handed back and not sent again, or cut short by the stop.
 * Cut short on a rank stopped alone, they failed like any other. */
static uint32_t slot_unfinished(master *m, slot *s) {
  mr__result_hdr *h = (mr__result_hdr *)(void *)s->task.result.data;
  if (!h || h->nfail == 0) return 0;
  mr__rec *rec = (mr__rec *)(void *)(s->task.result.data + sizeof *h);
  uint32_t n = 0;
  for (uint32_t i = 0; i < h->n; i++) {
    if (rec[i].status == MR__DROPPED && !master_heard_stop(m)) rec[i].status = MR_ESIGNAL;
    n += mr__unfinished(rec[i].status);
  }
  return n;
}

static void slot_emit(master *m, slot *s) {
  if (!m->rc && !m->halted_now) {
    uint32_t unfinished = slot_unfinished(m, s);
    mr__done d = {s->task.work.data, s->tags, s->task.result.data,
                  s->result_len, m->targets[s->target].rank, s->ranks};
    times_record(m, &d);
    uint64_t w0 = m->obs && m->obs->spans ? obs_now(m) : 0;
    int rc = m->sink->put(m->sink->ctx, &d);
    if (m->obs && m->obs->spans) obs_span(m, MR__EV_WRITE, s->id, s->n, w0);
    if (rc < 0) master_fail(m, rc);
    else if (rc == MR__HALT_NOW) m->halted_now = m->st.halted = 1;
    else if (rc == MR__HALT_SOON) m->stopping = m->st.halted = 1;
    m->st.items += s->n - unfinished;
    m->st.lost += unfinished;
    m->st.chunks++;
  } else {
    m->st.lost += s->n;
  }
  slot_release(m, s);
}

/* In order: every finished chunk at the head of the ring. */
static int master_emit(master *m) {
  int n = 0;
  uint32_t i;
  while (mr__ring_head(&m->ring, &i)) {
    slot *s = &m->slots[i];
    if (s->state != S_DONE) break;
    slot_emit(m, s);
    mr__ring_pop(&m->ring);
    n++;
  }
  return n;
}

/* Makes a slot waiting for items that went round again whole with the
 * answers so far. */
static void slot_merge(master *m, slot *s) {
  int rc = mr__retry_finish(&m->retry, (uint32_t)(s - m->slots), &s->task.result,
                            m->targets[s->target].rank, &s->ranks);
  if (rc < 0) {
    master_fail(m, rc);
  } else if (rc) { /* the answers' bytes move into the result */
    m->held += s->task.result.len;
    m->held -= s->result_len;
    s->result_len = s->task.result.len;
  }
}

/* When the run stops early: the finished chunks past the first unfinished
 * one, still in order; the unfinished are lost (a resume redoes them). */
static void master_emit_rest(master *m) {
  uint32_t i;
  for (; mr__ring_head(&m->ring, &i); mr__ring_pop(&m->ring)) {
    slot *s = &m->slots[i];
    if (s->state == S_RETRY) { /* keep the failures not yet retried */
      slot_merge(m, s);
      s->state = S_DONE;
    }
    if (s->state == S_DONE) slot_emit(m, s);
    else m->st.lost += s->n;
  }
}

/* The same for --unordered: chunks waiting for items that went round
 * again are written with what they have; those still out are lost. */
static void master_emit_unordered_rest(master *m) {
  for (uint32_t i = 0; i < m->nslots; i++) {
    slot *s = &m->slots[i];
    if (s->state == S_RETRY) {
      slot_merge(m, s);
      slot_emit(m, s);
    } else if (s->state == S_BUSY) {
      m->st.lost += s->n;
    }
  }
}

/* ---------------------------------------------------------- collecting */

static void master_observe(master *m, int ti, uint32_t n, uint64_t busy_ns) {
  mr__sizer_observe(&m->sizer, n, busy_ns);
  if (!m->targets[ti].reported) {
    m->targets[ti].reported = 1;
    mr__sizer_first_result(&m->sizer);
  }
}

static void slot_done(master *m, slot *s) {
  s->state = S_DONE;
  if (m->cfg->unordered) slot_emit(m, s);
}

/* The loop's side of the planner's stop: what it must know of the run. */
static mr__retry_stop retry_stop(const master *m) {
  /* handed-back items are sent again unless the run is draining or halted
   * at once (or sure to be); a halt "soon" still finishes them, as it does
   * queued chunks; a halt "now" those before its point */
  int going = !m->draining && !m->halted_now && !m->rc;
  uint64_t after = atomic_load(&mr__halt_seq);
  return (mr__retry_stop){m->stopping, going && !m->halt_due,
                          going && after != MR__NO_HALT ? after + 1 : 0};
}

/* The chunks whose items the planner has all answered go on. */
static void retry_done(master *m) {
  int p;
  while ((p = mr__retry_done_next(&m->retry)) >= 0) {
    slot *s = &m->slots[p];
    slot_merge(m, s);
    slot_done(m, s);
  }
}

/* --halt now,fail=N: counts the failures as they come back, in any order.
 * At the Nth the sink is sure to halt once it reaches them, at the latest
 * at the last of them in input order: stop dispatching, start no item
 * after that one anywhere, and let every item before it run (also one
 * still queued), so the results before the halt can all be written: the
 * output ends at the halting failure, not at a hole before it. */
static uint32_t halt_left(const master *m) {
  uint64_t n = m->cfg->halt_now_fail_n;
  if (!n || m->cfg->retries || m->failures >= n) return 0;
  return n - m->failures > UINT32_MAX ? UINT32_MAX : (uint32_t)(n - m->failures);
}

/* h: the result of the work wh */
static void halt_foresee(master *m, const mr__result_hdr *h, const mr__work_hdr *wh) {
  uint64_t n = m->cfg->halt_now_fail_n;
  if (!n || m->cfg->retries || h->nfail == 0) return;
  const mr__rec *rec = result_recs(h);
  uint64_t first = MR__NO_HALT;
  for (uint32_t i = 0; i < h->n; i++) {
    if (!rec[i].status || mr__unfinished(rec[i].status)) continue;
    m->failures++;
    if (wh->seq0 + i > m->failed_last) m->failed_last = wh->seq0 + i;
    if (first == MR__NO_HALT) first = wh->seq0 + i;
  }
  /* a rank that failed it as the Nth halted itself there (mr__halt_failed),
   * maybe before the last failure counted here: items past its point that
   * it hands back go round no more, or it would hand them back for ever */
  if (first != MR__NO_HALT) mr__halt_failed(wh, first);
  if (m->failures < n || m->halt_due) return;
  m->stopping = m->halt_due = 1;
  /* nothing after it starts now: here, and on every worker before its
   * next item (it reads messages between chunks, its threads look) */
  mr__halt_at(m->failed_last);
  uint64_t after = atomic_load(&mr__halt_seq);
  for (int r = 1; r < m->size; r++)
    MPI_Send(&after, 1, MPI_UINT64_T, r, MR__TAG_HALT, m->comm);
}

static void slot_finished(master *m, slot *s, size_t len) {
  const mr__result_hdr *h = (const mr__result_hdr *)(void *)s->task.result.data;
  uint32_t unrun = mr__result_unrun(h);
  m->st.given_back += unrun;
  /* items computed, not records: a reduction answers one */
  master_observe(m, s->target, s->n - unrun, h->busy_ns);
  m->st.busy_ns += h->busy_ns;
  if (m->obs && s->n)
    obs_chunk(m, &s->task, h, m->targets[s->target].rank, -1, s->tags[0], s->tags[s->n - 1],
              unrun);
  m->targets[s->target].inflight--;
  m->targets[s->target].items -= s->n;
  m->inflight--;
  m->held -= s->task.work.len;
  m->held += len;
  s->result_len = len;
  halt_foresee(m, h, work_hdr(&s->task.work));
  uint32_t queued = 0;
  int rc = mr__retry_plan(&m->retry, (uint32_t)(s - m->slots), work_hdr(&s->task.work)->seq0,
                          h, s->target, retry_stop(m), &queued);
  if (rc) master_fail(m, rc);
  if (queued) { /* some items go round again first */
    s->state = S_RETRY;
    return;
  }
  slot_done(m, s);
}

/* A result of an attempt (mr__retry_next) arrived in buf. */
static int attempt_arrived(master *m, const mr_buf *buf) {
  const mr__result_hdr *h = (const mr__result_hdr *)(void *)buf->data;
  uint32_t id = h->slot - m->nslots;
  const mr__retry_attempt *a = mr__retry_attempt_of(&m->retry, id);
  if (!a || h->n != a->count) return MR_EMPI;
  target *t = &m->targets[a->target];
  if (t->rank) MPI_Wait(&m->areqs[id], MPI_STATUS_IGNORE);
  t->inflight--;
  t->items -= a->count;
  m->inflight--;
  uint32_t unrun = mr__result_unrun(buf->data);
  m->st.given_back += unrun;
  master_observe(m, a->target, h->n - unrun, h->busy_ns);
  m->st.busy_ns += h->busy_ns;
  if (m->obs && h->n) {
    const slot *p = &m->slots[a->parent];
    obs_chunk(m, &m->atasks[id], h, t->rank, a->attempt, p->tags[a->pos],
              p->tags[a->pos + h->n - 1], unrun);
  }
  halt_foresee(m, h, work_hdr(&m->atasks[id].work));
  int rc = mr__retry_arrived(&m->retry, id, buf->data, t->rank, retry_stop(m));
  retry_done(m);
  return rc;
}

/* A result for slot index idx arrived in buf (which the slot takes). */
static int result_arrived(master *m, mr_buf *buf, size_t len, int remote) {
  const mr__result_hdr *h = (const mr__result_hdr *)(void *)buf->data;
  if (h->slot >= m->nslots) return attempt_arrived(m, buf);
  slot *s = &m->slots[h->slot];
  if (s->state != S_BUSY || s->id != h->id) return MR_EMPI;
  if (remote) {
    mr_buf tmp = s->task.result;
    s->task.result = *buf;
    *buf = tmp;
    MPI_Wait(&s->req, MPI_STATUS_IGNORE); /* the worker has it: completes */
  }
  slot_finished(m, s, len);
  return 0;
}

static int master_collect(master *m) {
  int got = 0;
  if (m->pool) {
    mr__task *t;
    while ((t = mr__pool_pop(m->pool))) {
      if (t->rc) master_fail(m, t->rc);
      const mr__result_hdr *h = (const mr__result_hdr *)(void *)t->result.data;
      if (t->rc || !h) { /* a failed computation: the chunk is lost */
        m->inflight--;
        got++;
        continue;
      }
      int rc = result_arrived(m, &t->result, t->result.len, 0);
      if (rc) master_fail(m, rc);
      got++;
    }
  }
  while (m->size > 1) {
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    if (MPI_Improbe(MPI_ANY_SOURCE, MR__TAG_RESULT, m->comm, &flag, &msg,
                    &st) != MPI_SUCCESS) {
      master_fail(m, MR_EMPI);
      break;
    }
    if (!flag) break;
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    m->spare.len = 0;
    if (mr_buf_reserve(&m->spare, (size_t)count)) {
      master_fail(m, MR_ENOMEM);
      MPI_Mrecv(NULL, 0, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
      break;
    }
    MPI_Mrecv(m->spare.data, count, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
    m->spare.len = (size_t)count;
    int rc = mr__result_check(m->spare.data, (size_t)count);
    const mr__result_hdr *rh = (const mr__result_hdr *)(void *)m->spare.data;
    if (!rc && (rh->flags & MR__RESULT_FAILED)) { /* the chunk's worker could not go on */
      int why = -(int)rh->nfail;
      master_fail(m, why < 0 && why >= MR_EPIPE ? why : MR_EMPI);
      got++;
      continue;
    }
    if (!rc) rc = result_arrived(m, &m->spare, (size_t)count, 1);
    if (rc) master_fail(m, MR_EMPI); /* a message we did not ask for: never guess */
    got++;
  }
  return got;
}

/* --------------------------------------------------------- dispatching */

static int room(master *m) {
  /* the answers of items that went round again wait for their chunk too */
  if (!m->nfree || m->held + m->retry.held >= m->budget) return 0;
  return m->cfg->unordered || !mr__ring_full(&m->ring);
}

static int next_item(master *m, mr__item *it) {
  if (m->have_pending) {
    *it = m->pending;
    m->have_pending = 0;
    return 1;
  }
  if (m->eof || m->src_again) return 0;
  int r = m->src->next(m->src->ctx, it);
  if (r == MR__SRC_AGAIN) { /* dispatch what we have; ask next round */
    m->src_again = 1;
    return 0;
  }
  if (r <= 0) {
    if (r == MR_EINTR) master_drain(m);
    else if (r < 0) master_fail(m, r);
    m->eof = 1;
    return 0;
  }
  return 1;
}

/* Reads the next chunk into s: consecutive items only (a resumed run skips
 * some), so seq0 + i is every item's index. Returns the item count. */
static uint32_t slot_fill(master *m, slot *s, uint32_t idx, uint32_t most) {
  uint64_t left = m->src->remaining ? m->src->remaining(m->src->ctx) : UINT64_MAX;
  size_t want = mr__sizer_next(&m->sizer, left);
  if (want > most) want = most; /* what ends before the deadline */
  s->n = 0;
  mr__item it;
  while (s->n < want && next_item(m, &it)) {
    if (s->n == 0) {
      mr__work_begin(&s->task.work, m->ring.next_id, it.seq, m->cfg->work_flags, idx,
                 chunk_timeout(m));
    } else if (it.seq != work_hdr(&s->task.work)->seq0 + s->n ||
               s->task.work.len >= m->chunk_bytes) {
      m->pending = it; /* starts the next chunk; its text stays valid */
      m->have_pending = 1;
      break;
    }
    if (s->n == s->tags_cap) {
      size_t cap = s->tags_cap ? 2 * s->tags_cap : 64;
      uint64_t *t = realloc(s->tags, cap * sizeof *t);
      if (!t) {
        master_fail(m, MR_ENOMEM);
        break;
      }
      s->tags = t;
      s->tags_cap = cap;
    }
    int rc = work_add(&s->task.work, it.text, it.len, it.bad);
    if (rc) {
      master_fail(m, rc);
      break;
    }
    s->tags[s->n++] = it.tag;
  }
  mr__sizer_sent(&m->sizer, s->n);
  if (!m->rc && s->n) {
    work_hdr(&s->task.work)->halt_left = halt_left(m);
    work_hdr(&s->task.work)->failed_last = m->failed_last;
  }
  if (!m->rc && s->n > 1) {
    mr__work_hdr *h = work_hdr(&s->task.work);
    mr__sizer_budget(&m->sizer, s->n, m->node_load, &h->budget_us, &h->check_every);
  }
  return m->rc ? 0 : s->n;
}

static uint64_t master_left(const master *m) {
  return m->src->remaining ? m->src->remaining(m->src->ctx) : UINT64_MAX;
}

static int master_depth(const master *m, int ti, uint64_t left) {
  const target *t = &m->targets[ti];
  /* only worker ranks hold more of short chunks: the master's own pool
   * shares its core, and a deeper queue there starved the workers */
  return mr__sizer_depth(&m->sizer, left, t->threads, t->depth,
                     t->rank ? SIZER_DEPTH_EXTRA : 0);
}

/* --deadline: the items a chunk sent to target ti now may hold and end
 * in time, after the chunks the target holds already, at the cost of an
 * item measured so far: 0 when not one would; UINT32_MAX with no deadline
 * or nothing measured yet (single items then, and the stop at the
 * deadline bounds them). */
static uint32_t deadline_fit(const master *m, int ti) {
  uint64_t dl = m->cfg->deadline_ns;
  if (!dl) return UINT32_MAX;
  uint64_t now = mr__now_ns();
  if (now >= dl) return 0;
  double item = mr__sizer_cost_ns(&m->sizer, 1);
  if (item < 0) return UINT32_MAX;
  const target *t = &m->targets[ti];
  double ahead = (double)t->items * item / (t->threads < 1 ? 1 : t->threads);
  double room = ((double)(dl - now) - ahead) / (item * DEADLINE_SLACK);
  return room < 1 ? 0 : room >= UINT32_MAX ? UINT32_MAX : (uint32_t)room;
}

/* An idle target has no room for one item before the deadline: if an item
 * waits (not the input's end, nor a silent pipe), nothing more is sent;
 * the run ends when the chunks out have come back. */
static void deadline_reached(master *m) {
  mr__item it;
  if (!m->have_pending && next_item(m, &it)) {
    m->pending = it; /* the next chunk's first item; its text stays valid */
    m->have_pending = 1;
  }
  if (m->have_pending) m->time_up = m->stopping = m->st.timed_out = 1;
}

static int master_send(master *m, mr__task *task, MPI_Request *req, int ti) {
  target *t = &m->targets[ti];
  t->inflight++;
  t->items += work_hdr(&task->work)->n;
  m->inflight++;
  if (m->obs) task->sent_ns = obs_now(m);
  if (t->rank == 0) {
    /* a chunk of a few microseconds: computing it here costs less than
     * waking the pool's thread for it */
    double ns = mr__sizer_cost_ns(&m->sizer, work_hdr(&task->work)->n);
    if (t->threads == 1 && ns >= 0 && ns < INLINE_CHUNK_NS)
      return mr__pool_run_here(m->pool, task);
    mr__pool_push(m->pool, task);
    return 0;
  }
  if (MPI_Isend(task->work.data, (int)task->work.len, MPI_BYTE, t->rank,
                MR__TAG_WORK, m->comm, req) != MPI_SUCCESS)
    return MR_EMPI;
  return 0;
}

/* The work message of attempt id: items of its parent chunk again. */
static int attempt_fill(master *m, uint32_t id, const mr__retry_attempt *a) {
  mr__task *task = &m->atasks[id];
  const slot *parent = &m->slots[a->parent];
  const mr__work_hdr *ph = (const mr__work_hdr *)(const void *)parent->task.work.data;
  const char *text, *p = work_items(parent->task.work.data);
  size_t len;
  task->slot = m->nslots + id;
  mr__work_begin(&task->work, ph->id, ph->seq0 + a->pos, ph->flags | MR__WORK_URGENT,
                 task->slot, ph->timeout_s);
  int rc = 0;
  for (uint32_t i = 0; i < a->pos + a->count && !rc; i++) {
    int code = work_next(&p, &text, &len);
    if (i >= a->pos) rc = work_add(&task->work, text, len, code);
  }
  if (rc) return rc;
  mr__work_hdr *wh = work_hdr(&task->work);
  mr__sizer_budget(&m->sizer, a->count, m->node_load, &wh->budget_us, &wh->check_every);
  wh->halt_left = halt_left(m);
  wh->failed_last = m->failed_last;
  return 0;
}

/* Sends the attempts the planner picks, before any new chunk. */
static int retry_dispatch(master *m, int local) {
  if (!mr__retry_pending(&m->retry)) return 0;
  uint64_t left = master_left(m);
  for (int ti = 0; ti < m->ntargets; ti++) {
    const target *t = &m->targets[ti];
    /* a rank holding more of short chunks (master_depth) takes a retry as
     * soon as it takes a new chunk, not when it is down to t->depth */
    int most = master_depth(m, ti, left);
    m->places[ti] = (mr__retry_place){t->node, t->inflight, most > t->depth ? most : t->depth,
                                      t->rank == 0 && !local && m->ntargets > 1};
  }
  uint32_t piece = mr__sizer_items_per_chunk(&m->sizer);
  int sent = 0, id;
  while (!m->rc && (id = mr__retry_next(&m->retry, m->places, m->rr, piece)) >= 0) {
    const mr__retry_attempt *a = mr__retry_attempt_of(&m->retry, (uint32_t)id);
    m->areqs[id] = MPI_REQUEST_NULL;
    int rc = attempt_fill(m, (uint32_t)id, a);
    if (!rc) {
      if (a->attempt > 0) m->st.retried++;
      rc = master_send(m, &m->atasks[id], &m->areqs[id], a->target);
    }
    if (rc) {
      master_fail(m, rc);
      break;
    }
    sent++;
  }
  return sent;
}

/* Fills the ranks' queues. The master's own pool is filled only when
 * `local` is set: when the master would otherwise wait, so that its own
 * computing never slows its dispatching (or when it computes alone). */
static int master_dispatch(master *m, int local) {
  int sent = retry_dispatch(m, local);
  for (;;) {
    int round = 0;
    uint64_t left = master_left(m);
    for (int k = 0; k < m->ntargets; k++) {
      if (m->eof || m->rc || m->stopping || !room(m)) return sent;
      int ti = (m->rr + k) % m->ntargets;
      if (m->targets[ti].inflight >= master_depth(m, ti, left)) continue;
      if (m->targets[ti].rank == 0 && !local && m->ntargets > 1) continue;
      uint32_t fit = deadline_fit(m, ti);
      if (!fit) {
        if (m->targets[ti].inflight) continue; /* another may have room */
        deadline_reached(m);
        return sent;
      }
      uint32_t idx = m->free_stack[m->nfree - 1];
      slot *s = &m->slots[idx];
      uint64_t r0 = m->obs && m->obs->spans ? obs_now(m) : 0;
      if (!slot_fill(m, s, idx, fit)) return sent;
      m->nfree--;
      s->id = mr__ring_push(&m->ring, idx);
      if (m->obs && m->obs->spans) obs_span(m, MR__EV_READ, s->id, s->n, r0);
      work_hdr(&s->task.work)->id = s->id;
      s->state = S_BUSY;
      s->target = ti;
      s->task.slot = idx;
      m->held += s->task.work.len;
      int rc = master_send(m, &s->task, &s->req, ti);
      if (rc) {
        master_fail(m, rc);
        return sent;
      }
      round++;
      sent++;
    }
    m->rr = (m->rr + 1) % m->ntargets;
    if (!round) return sent;
  }
}

/* ------------------------------------------------------------ shutdown */

/* Tells every worker to stop and waits for each to say goodbye, throwing
 * away results that arrive meanwhile. Gives up at the deadline (0: never). */
static int master_stop_workers(master *m, int mode, uint64_t deadline) {
  int nw = m->size - 1;
  if (nw <= 0) return 0;
  static int32_t code; /* must outlive the sends */
  code = mode;
  MPI_Request *reqs = calloc((size_t)nw, sizeof *reqs);
  if (!reqs) return MR_ENOMEM;
  for (int r = 1; r < m->size; r++)
    MPI_Isend(&code, 1, MPI_INT32_T, r, MR__TAG_STOP, m->comm, &reqs[r - 1]);
  int byes = 0, rc = 0;
  mr__idle idle = {0};
  while (byes < nw) {
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, m->comm, &flag, &msg, &st);
    if (flag) {
      idle_reset(&idle);
      int count = 0;
      MPI_Get_count(&st, MPI_BYTE, &count);
      m->spare.len = 0;
      if (mr_buf_reserve(&m->spare, (size_t)count)) {
        rc = MR_ENOMEM;
        break;
      }
      MPI_Mrecv(m->spare.data, count, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
      if (st.MPI_TAG == MR__TAG_BYE && (size_t)count == sizeof(mr__bye)) {
        mr__bye bye;
        memcpy(&bye, m->spare.data, sizeof bye);
        if (bye.rc && !rc) rc = bye.rc;
        byes++;
      }
      continue;
    }
    if (deadline && mr__now_ns() > deadline) {
      rc = MR_EINTR;
      break;
    }
    mr__idle_wait(&idle);
  }
  if (byes == nw) MPI_Waitall(nw, reqs, MPI_STATUSES_IGNORE);
  free(reqs);
  /* the work sends of chunks that will never come back */
  for (uint32_t i = 0; byes == nw && i < m->nslots; i++)
    if (m->slots[i].state == S_BUSY && m->targets[m->slots[i].target].rank)
      MPI_Wait(&m->slots[i].req, MPI_STATUS_IGNORE);
  for (uint32_t i = 0; byes == nw && i < m->retry.nattempts; i++) {
    const mr__retry_attempt *a = mr__retry_attempt_of(&m->retry, i);
    if (a && m->targets[a->target].rank) MPI_Wait(&m->areqs[i], MPI_STATUS_IGNORE);
  }
  return rc;
}

/* ---------------------------------------------------------------- loop */

/* Whether a worker's result is due within a sleep: chunks in flight that
 * take less than the longest sleep. Sleeping then would leave the master
 * and a worker waiting for each other's sleeps in turn (0.5 ms a round trip
 * at -c 1), so the master yields the core instead, while the wait stays
 * short. */
static int result_due(const master *m, const mr__idle *idle) {
  int local = m->ntargets && m->targets[0].rank == 0 ? m->targets[0].inflight : 0;
  if (m->inflight - local <= 0) return 0;
  double chunk_ns = mr__sizer_cost_ns(&m->sizer, mr__sizer_chunk_items(&m->sizer));
  if (chunk_ns < 0 || chunk_ns >= MR_IDLE_SLEEP_MAX_NS) return 0;
  return mr__now_ns() - idle->since_ns < 4 * (uint64_t)MR_IDLE_SLEEP_MAX_NS;
}

static void master_wait(master *m, mr__idle *idle, int *flushed) {
  uint32_t ns = mr__idle_next(idle);
  if (m->obs && ns) { /* a sleep, not a spin: the observer's clock */
    mr__farm_event e = {0};
    e.kind = MR__EV_TICK;
    e.t1 = obs_now(m);
    m->obs->event(m->obs->ctx, &e);
  }
  /* a pause: what is finished goes out (a reader sees it, a kill keeps
   * it). Not at every gap between results: at -c 1 that is a write or
   * three per item. */
  if (!*flushed && m->sink->idle && mr__now_ns() - idle->since_ns >= FLUSH_AFTER_NS) {
    m->sink->idle(m->sink->ctx);
    *flushed = 1;
  }
  if (!ns) return;
  if (m->pool && mr__pool_pending(m->pool) > 0) {
    mr__pool_wait(m->pool, ns); /* wakes as soon as the pool finishes a chunk */
  } else if (result_due(m, idle)) {
    sched_yield();
  } else {
    struct timespec ts = {0, (long)ns};
    nanosleep(&ts, NULL);
  }
}

static int master_run(master *m) {
  mr__idle idle = {0};
  int flushed = 0;
  for (;;) {
    if (m->cfg->stop && *m->cfg->stop) master_drain(m);
    if (m->stopping) { /* no new attempts either */
      mr__retry_abandon(&m->retry, retry_stop(m));
      retry_done(m);
    }
    m->src_again = 0;
    int progress = master_collect(m);
    if (!m->cfg->unordered) progress += master_emit(m);
    if (m->rc || m->halted_now) break;
    if ((m->eof || m->stopping) && m->inflight == 0 && !mr__retry_pending(&m->retry)) break;
    if (m->draining && mr__now_ns() > m->deadline) break;
    progress += master_dispatch(m, 0);
    if (!progress) progress = master_dispatch(m, 1);
    if (progress) {
      idle_reset(&idle);
      flushed = 0;
    } else {
      master_wait(m, &idle, &flushed);
    }
  }
  if (!m->cfg->unordered) master_emit_rest(m);
  else master_emit_unordered_rest(m);
  if (m->rc) return m->rc;
  return m->draining || m->halted_now || m->st.halted || m->time_up ? MR_EINTR : 0;
}

/* ------------------------------------------------------------- entry */

static int agree(MPI_Comm comm, int rc) {
  if (comm == MPI_COMM_NULL) return rc;
  int all = rc;
  MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
  return all;
}

/* Ranks sharing the caller's node, per online core there; and on rank 0
 * (nodes, size entries) which node every rank is on, named by its lowest
 * rank, so a retry can go to another host. Collective. */
static double node_info(MPI_Comm comm, int rank, int *nodes, int *ranks_here) {
  int local = 1, leader = rank;
  MPI_Comm node;
  if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL,
                          &node) == MPI_SUCCESS) {
    MPI_Comm_size(node, &local);
    MPI_Bcast(&leader, 1, MPI_INT, 0, node); /* ordered by rank: the lowest */
    MPI_Comm_free(&node);
  }
  int ok = rank != 0 || nodes != NULL; /* rank 0 out of memory: skip it */
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  if (ok) MPI_Gather(&leader, 1, MPI_INT, nodes, 1, MPI_INT, 0, comm);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  *ranks_here = local;
  return cpus > 0 ? (double)local / (double)cpus : 1.0;
}

int mr__farm_run(MPI_Comm comm, const mr__farm_cfg *cfg, const mr__kernel *k,
                 mr__source *src, mr__sink *sink, mr__farm_stats *stats) {
  int rank = 0, size = 1;
  double load = 1.0;
  int ranks_here = 1;
  if (comm != MPI_COMM_NULL) {
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
  }
  int *nodes = rank == 0 ? calloc((size_t)size, sizeof *nodes) : NULL;
  if (size > 1) load = node_info(comm, rank, nodes, &ranks_here); /* NULL: not read */
  if (rank != 0) return mr__worker_run(comm, cfg, k);

  uint64_t t0 = mr__now_ns();
  master *m = calloc(1, sizeof *m);
  if (!m || !nodes) {
    free(m);
    free(nodes);
    return agree(comm, MR_ENOMEM);
  }
  atomic_store(&mr__halt_seq, MR__NO_HALT); /* a run before this one may have halted */
  m->nodes = nodes;
  m->comm = comm;
  m->size = size;
  m->cfg = cfg;
  m->src = src;
  m->sink = sink;
  m->node_load = load;
  m->st.node_ranks = ranks_here;
  int rc = master_setup(m);
  if (!rc && m->targets[0].rank == 0) {
    rc = mr__pool_new(cfg->threads < 1 ? 1 : cfg->threads, k, &m->pool);
  }
  rc = agree(comm, rc); /* every rank has its job ready, or nobody starts */
  uint64_t t1 = mr__now_ns();
  m->st.setup_s = (double)(t1 - t0) * 1e-9;
  m->obs = cfg->observer && cfg->observer->event ? cfg->observer : NULL;
  m->t0 = t1;
  if (!rc && m->obs) {
    mr__farm_event e = {0};
    e.kind = MR__EV_START;
    e.ranks = size;
    e.threads = cfg->threads < 1 ? 1 : cfg->threads;
    e.master_computes = m->targets[0].rank == 0;
    e.wall_ns = mr__wall_ns();
    m->obs->event(m->obs->ctx, &e);
  }
  if (!rc) {
    rc = master_run(m);
    if (m->obs) {
      mr__farm_event e = {0};
      e.kind = MR__EV_END;
      e.t1 = obs_now(m);
      m->obs->event(m->obs->ctx, &e);
    }
    int early = m->inflight > 0 || rc < 0;
    /* a stop by signal has mpirun's SIGKILL a second behind it; a failed
     * run gives the ranks time to finish the chunk they are in (a
     * --worker command failing to start, again and again, on each) */
    uint64_t deadline =
        early ? mr__now_ns() + (m->draining || !m->rc ? STOP_WAIT_NS : FAIL_STOP_WAIT_NS) : 0;
    int stop_rc = master_stop_workers(m, early ? MR__STOP_DISCARD : MR__STOP_FINISH,
                                      deadline);
    if (stop_rc == MR_EINTR) {
      /* a worker is stuck inside an item and will not answer: only an
       * abort ends it (the caller's job). Every finished result has been
       * handed to the sink. */
      rc = MR_EINTR;
      m->st.stuck = 1;
    } else {
      if (!rc && stop_rc) rc = stop_rc;
      if (comm != MPI_COMM_NULL) MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    }
  }
  if ((m->draining || m->halted_now) && mr__pool_stop(m->pool, POOL_GRACE_NS)) {
    /* a thread is inside an item that does not end: it still reads its
     * chunk and the kernel, so the master, the pool and the job stay as
     * they are for the rest of the process, which the caller ends */
    m->st.abandoned = 1;
    m->st.seconds = (double)(mr__now_ns() - t1) * 1e-9;
    if (stats) *stats = m->st;
    return rc;
  }
  mr__pool_free(m->pool); /* waits for the chunks it still computes */
  m->st.seconds = (double)(mr__now_ns() - t1) * 1e-9;
  if (stats) *stats = m->st;
  master_teardown(m);
  free(m);
  return rc;
}
