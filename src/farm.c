/* farm.c: the master side of the farm: read, dispatch, gather, reorder. */
#include "farm.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idle.h"
#include "pool.h"
#include "sizer.h"

#define DEFAULT_BUDGET (24u << 20)
#define DEFAULT_DRAIN_NS 800000000u
#define MASTER_COMPUTE_MAX_WORKERS 16 /* above this the master only dispatches */

enum { S_FREE, S_BUSY, S_DONE };

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
} slot;

typedef struct target {
  int rank; /* 0: the master's own pool */
  int inflight;
  int depth;
} target;

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
  uint64_t next_id, head_id, next_seq;
  int eof;
  int stopping;
  uint64_t deadline;
  mr__sizer sizer;
  mr_buf spare; /* receives results; swapped with the slot's buffer */
  size_t held;  /* bytes of work in flight and results awaiting their turn */
  size_t budget;
  size_t chunk_bytes;
  int inflight;
  int rc;
  mr__farm_stats st;
} master;

int mr__farm_depth(int threads) { return 2 * (threads < 1 ? 1 : threads) + 1; }

static int pool_kernel_ok(const mr__kernel *k, int threads, mr__pool **out) {
  int err = 0;
  *out = pool_new(threads, k, &err);
  return *out ? 0 : err;
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
    m->targets[m->ntargets++] = (target){0, 0, 2 * threads};
    total_depth += 2 * threads;
    m->st.computing += threads;
  }
  for (int r = 1; r < m->size; r++) {
    int d = mr__farm_depth(threads);
    m->targets[m->ntargets++] = (target){r, 0, d};
    total_depth += d;
    m->st.computing += threads;
  }
  m->nslots = (uint32_t)(2 * total_depth + 4);
  m->slots = calloc(m->nslots, sizeof *m->slots);
  m->free_stack = malloc(m->nslots * sizeof *m->free_stack);
  m->ring = malloc(m->nslots * sizeof *m->ring);
  if (!m->slots || !m->free_stack || !m->ring) return MR_ENOMEM;
  for (uint32_t i = 0; i < m->nslots; i++)
    m->free_stack[m->nfree++] = m->nslots - 1 - i;
  m->budget = cfg->mem_budget ? cfg->mem_budget : DEFAULT_BUDGET;
  m->chunk_bytes = m->budget / (2 * (size_t)total_depth);
  if (m->chunk_bytes > MR_CHUNK_MAX_BYTES) m->chunk_bytes = MR_CHUNK_MAX_BYTES;
  if (m->chunk_bytes < 4096) m->chunk_bytes = 4096;
  sizer_init(&m->sizer, cfg->chunksize, m->st.computing);
  return 0;
}

static void master_teardown(master *m) {
  for (uint32_t i = 0; m->slots && i < m->nslots; i++) {
    mr_buf_free(&m->slots[i].task.work);
    mr_buf_free(&m->slots[i].task.result);
    free(m->slots[i].tags);
  }
  free(m->slots);
  free(m->free_stack);
  free(m->ring);
  free(m->targets);
  mr_buf_free(&m->spare);
}

static void fail(master *m, int rc) {
  if (!m->rc) m->rc = rc;
}

/* ------------------------------------------------------------ emitting */

static void slot_release(master *m, slot *s) {
  m->held -= s->result_len;
  s->state = S_FREE;
  /* a chunk of huge items must not pin its memory for the rest of the run */
  if (s->task.result.cap > 4 * MR_CHUNK_MAX_BYTES) mr_buf_free(&s->task.result);
  if (s->task.work.cap > 4 * MR_CHUNK_MAX_BYTES) mr_buf_free(&s->task.work);
  m->free_stack[m->nfree++] = (uint32_t)(s - m->slots);
}

static void slot_emit(master *m, slot *s) {
  if (!m->rc) {
    mr__done d = {s->task.work.data, s->tags, s->task.result.data,
                  s->result_len, m->targets[s->target].rank};
    int rc = m->sink->put(m->sink->ctx, &d);
    if (rc) fail(m, rc);
    m->st.items += s->n;
    m->st.chunks++;
  }
  slot_release(m, s);
}

static int master_emit(master *m) {
  int n = 0;
  while (m->head_id < m->next_id) {
    slot *s = &m->slots[m->ring[m->head_id % m->nslots]];
    if (s->state != S_DONE) break;
    slot_emit(m, s);
    m->head_id++;
    n++;
  }
  return n;
}

/* ---------------------------------------------------------- collecting */

static void slot_finished(master *m, slot *s, size_t len) {
  const mr__result_hdr *h = (const mr__result_hdr *)(void *)s->task.result.data;
  sizer_observe(&m->sizer, s->n, h->busy_ns); /* items sent, not records:
                                                  a reduction answers one */
  m->st.busy_ns += h->busy_ns;
  m->targets[s->target].inflight--;
  m->inflight--;
  m->held -= s->task.work.len;
  m->held += len;
  s->result_len = len;
  s->state = S_DONE;
  if (m->cfg->unordered) slot_emit(m, s);
}

static int master_collect(master *m) {
  int got = 0;
  if (m->pool) {
    mr__task *t;
    while ((t = pool_pop(m->pool))) {
      slot *s = &m->slots[t->slot];
      if (t->rc) fail(m, t->rc);
      slot_finished(m, s, s->task.result.len);
      got++;
    }
  }
  while (m->size > 1) {
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    if (MPI_Improbe(MPI_ANY_SOURCE, MR__TAG_RESULT, m->comm, &flag, &msg,
                    &st) != MPI_SUCCESS) {
      fail(m, MR_EMPI);
      break;
    }
    if (!flag) break;
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    m->spare.len = 0;
    if (mr_buf_reserve(&m->spare, (size_t)count)) {
      fail(m, MR_ENOMEM);
      MPI_Mrecv(NULL, 0, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
      break;
    }
    MPI_Mrecv(m->spare.data, count, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
    m->spare.len = (size_t)count;
    const mr__result_hdr *h = (const mr__result_hdr *)(void *)m->spare.data;
    if (result_check(m->spare.data, (size_t)count) || h->slot >= m->nslots ||
        m->slots[h->slot].state != S_BUSY || m->slots[h->slot].id != h->id) {
      fail(m, MR_EMPI); /* a message we did not ask for: never guess */
      continue;
    }
    slot *s = &m->slots[h->slot];
    mr_buf tmp = s->task.result;
    s->task.result = m->spare;
    m->spare = tmp;
    MPI_Wait(&s->req, MPI_STATUS_IGNORE); /* the worker has it: completes */
    slot_finished(m, s, (size_t)count);
    got++;
  }
  return got;
}

/* --------------------------------------------------------- dispatching */

static int room(master *m) {
  if (!m->nfree || m->held >= m->budget) return 0;
  return m->cfg->unordered || m->next_id - m->head_id < m->nslots;
}

/* Reads the next chunk into s; returns its item count (0 at the end). */
static uint32_t slot_fill(master *m, slot *s, uint32_t idx) {
  uint64_t left = m->src->remaining ? m->src->remaining(m->src->ctx) : UINT64_MAX;
  size_t want = sizer_next(&m->sizer, left);
  work_begin(&s->task.work, m->next_id, m->next_seq, m->cfg->work_flags, idx);
  s->n = 0;
  while (s->n < want && s->task.work.len < m->chunk_bytes) {
    mr__item it;
    int r = m->src->next(m->src->ctx, &it);
    if (r <= 0) {
      if (r < 0) fail(m, r);
      m->eof = 1;
      break;
    }
    if (s->n == s->tags_cap) {
      size_t cap = s->tags_cap ? 2 * s->tags_cap : 64;
      uint64_t *t = realloc(s->tags, cap * sizeof *t);
      if (!t) {
        fail(m, MR_ENOMEM);
        break;
      }
      s->tags = t;
      s->tags_cap = cap;
    }
    int rc = work_add(&s->task.work, it.text, it.len, it.bad);
    if (rc) {
      fail(m, rc);
      break;
    }
    s->tags[s->n++] = it.tag;
  }
  return m->rc ? 0 : s->n;
}

static int send_to(master *m, slot *s, int ti) {
  target *t = &m->targets[ti];
  s->target = ti;
  s->state = S_BUSY;
  t->inflight++;
  m->inflight++;
  m->held += s->task.work.len;
  if (t->rank == 0) {
    s->task.slot = (uint32_t)(s - m->slots);
    pool_push(m->pool, &s->task);
    return 0;
  }
  if (MPI_Isend(s->task.work.data, (int)s->task.work.len, MPI_BYTE, t->rank,
                MR__TAG_WORK, m->comm, &s->req) != MPI_SUCCESS)
    return MR_EMPI;
  return 0;
}

/* Fills the ranks' queues. The master's own pool is filled only when
 * `local` is set: when the master would otherwise wait, so that its own
 * computing never slows its dispatching (or when it computes alone). */
static int master_dispatch(master *m, int local) {
  int sent = 0;
  for (;;) {
    int round = 0;
    for (int k = 0; k < m->ntargets; k++) {
      if (m->eof || m->rc || m->stopping || !room(m)) return sent;
      int ti = (m->rr + k) % m->ntargets;
      if (m->targets[ti].inflight >= m->targets[ti].depth) continue;
      if (m->targets[ti].rank == 0 && !local && m->ntargets > 1) continue;
      uint32_t idx = m->free_stack[m->nfree - 1];
      slot *s = &m->slots[idx];
      if (!slot_fill(m, s, idx)) return sent;
      m->nfree--;
      s->id = m->next_id++;
      m->next_seq += s->n;
      m->ring[s->id % m->nslots] = idx;
      int rc = send_to(m, s, ti);
      if (rc) {
        fail(m, rc);
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
  mr__idle idle = {0, 0};
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
      rc = rc ? rc : MR_EINTR;
      break;
    }
    idle_wait(&idle);
  }
  if (byes == nw) MPI_Waitall(nw, reqs, MPI_STATUSES_IGNORE);
  free(reqs);
  /* the work sends of chunks that will never come back */
  for (uint32_t i = 0; byes == nw && i < m->nslots; i++)
    if (m->slots[i].state == S_BUSY && m->targets[m->slots[i].target].rank)
      MPI_Wait(&m->slots[i].req, MPI_STATUS_IGNORE);
  return rc;
}

/* ---------------------------------------------------------------- loop */

static void master_wait(master *m, mr__idle *idle, int *flushed) {
  if (!*flushed && m->sink->idle) {
    m->sink->idle(m->sink->ctx);
    *flushed = 1;
  }
  uint32_t ns = idle_next(idle);
  if (!ns) return;
  if (m->pool && pool_pending(m->pool) > 0) {
    pool_wait(m->pool, ns); /* wakes as soon as the pool finishes a chunk */
  } else {
    struct timespec ts = {0, (long)ns};
    nanosleep(&ts, NULL);
  }
}

static int master_run(master *m) {
  mr__idle idle = {0, 0};
  int flushed = 0;
  for (;;) {
    if (!m->stopping && m->cfg->stop && *m->cfg->stop) {
      m->stopping = 1;
      uint64_t d = m->cfg->drain_ns ? m->cfg->drain_ns : DEFAULT_DRAIN_NS;
      m->deadline = mr__now_ns() + d;
    }
    int progress = master_collect(m);
    if (!m->cfg->unordered) progress += master_emit(m);
    if (m->rc) break;
    if ((m->eof || m->stopping) && m->inflight == 0) break;
    if (m->stopping && mr__now_ns() > m->deadline) break;
    progress += master_dispatch(m, 0);
    if (!progress) progress = master_dispatch(m, 1);
    if (progress) {
      idle_reset(&idle);
      flushed = 0;
    } else {
      master_wait(m, &idle, &flushed);
    }
  }
  m->st.lost_chunks = m->inflight;
  if (m->rc) return m->rc;
  return m->stopping ? MR_EINTR : 0;
}

/* ------------------------------------------------------------- entry */

static int agree(MPI_Comm comm, int rc) {
  if (comm == MPI_COMM_NULL) return rc;
  int all = rc;
  MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
  return all;
}

int mr__farm_run(MPI_Comm comm, const mr__farm_cfg *cfg, const mr__kernel *k,
                 mr__source *src, mr__sink *sink, mr__farm_stats *stats) {
  int rank = 0, size = 1;
  if (comm != MPI_COMM_NULL) {
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
  }
  if (rank != 0) return mr__worker_run(comm, cfg, k);

  uint64_t t0 = mr__now_ns();
  master m;
  memset(&m, 0, sizeof m);
  m.comm = comm;
  m.size = size;
  m.cfg = cfg;
  m.src = src;
  m.sink = sink;
  int rc = master_setup(&m);
  if (!rc && m.targets[0].rank == 0)
    rc = pool_kernel_ok(k, cfg->threads < 1 ? 1 : cfg->threads, &m.pool);
  rc = agree(comm, rc); /* every rank has its job ready, or nobody starts */
  if (!rc) {
    rc = master_run(&m);
    int lost = m.inflight > 0 || rc < 0;
    uint64_t deadline = lost ? mr__now_ns() + DEFAULT_DRAIN_NS : 0;
    int src_rc = master_stop_workers(&m, lost ? MR__STOP_DISCARD : MR__STOP_FINISH,
                                     deadline);
    if (!rc && src_rc) rc = src_rc;
    if (src_rc == MR_EINTR) {
      /* a worker is stuck inside an item and will not answer: nothing but
       * an abort ends it (the caller's job). Every finished result has been
       * handed to the sink. */
      rc = MR_EINTR;
    } else if (comm != MPI_COMM_NULL) {
      MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    }
  }
  pool_free(m.pool);
  m.st.seconds = (double)(mr__now_ns() - t0) * 1e-9;
  if (stats) *stats = m.st;
  master_teardown(&m);
  return rc;
}
