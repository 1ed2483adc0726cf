/* worker.c: the worker side of the farm: receive chunks, compute, reply.
 * With one thread the rank computes in its own loop; with -t N a pool of N
 * threads computes and this loop only moves messages. Either way, a worker
 * that has nothing queued waits by spinning briefly and then sleeping. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "farm/farm.h"
#include "base/idle.h"
#include "farm/pool.h"
#include "farm/sizer.h"

typedef struct worker {
  MPI_Comm comm;
  const mr__kernel *k;
  mr__pool *pool;
  void *state;       /* inline computing: the kernel's thread state */
  int state_ok;
  mr__task *tasks;   /* all task records */
  int ntasks;
  mr__task *free;    /* unused records */
  mr__taskq queue;   /* received, waiting to be computed inline */
  mr__task **sending;        /* results on their way back */
  MPI_Request *send_reqs;
  int nsending;
  int stop;          /* 0 running, 1 finishing queued work, 2 discarding */
  int held;          /* tasks received and not yet handed back */
  uint64_t busy_ns;
  int rc;
} worker;

static void task_recycle(worker *w, mr__task *t) {
  t->next = w->free;
  w->free = t;
  w->held--;
}

static int send_result(worker *w, mr__task *t) {
  const mr__result_hdr *h = (const mr__result_hdr *)(void *)t->result.data;
  w->busy_ns += h->busy_ns;
  int i = w->nsending++;
  w->sending[i] = t;
  if (MPI_Isend(t->result.data, (int)t->result.len, MPI_BYTE, 0,
                MR__TAG_RESULT, w->comm, &w->send_reqs[i]) != MPI_SUCCESS)
    return MR_EMPI;
  return 0;
}

/* A chunk whose computing failed (not an item: the kernel could not go
 * on): the master hears of it in the chunk's stead, or would wait for the
 * chunk for ever, and ends the run with rc. */
static int send_failure(worker *w, mr__task *t, int rc) {
  mr__work_hdr wh;
  memcpy(&wh, t->work.data, sizeof wh);
  mr__result_hdr h = {wh.id, 0, (uint32_t)-rc, wh.slot, wh.flags | MR__RESULT_FAILED, 0, 0};
  t->result.len = 0;
  if (mr_buf_append(&t->result, &h, sizeof h)) return MR_ENOMEM;
  return send_result(w, t);
}

/* Completes finished sends and recycles their tasks. */
static int sends_progress(worker *w) {
  int done = 0;
  for (int i = 0; i < w->nsending;) {
    int flag = 0;
    MPI_Test(&w->send_reqs[i], &flag, MPI_STATUS_IGNORE);
    if (!flag) {
      i++;
      continue;
    }
    task_recycle(w, w->sending[i]);
    w->nsending--;
    w->sending[i] = w->sending[w->nsending];
    w->send_reqs[i] = w->send_reqs[w->nsending];
    done++;
  }
  return done;
}

static int receive(worker *w) {
  int got = 0;
  for (;;) {
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    MPI_Improbe(0, MPI_ANY_TAG, w->comm, &flag, &msg, &st);
    if (!flag) return got;
    got++;
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    if (st.MPI_TAG == MR__TAG_HALT) { /* --halt now: start no more items */
      uint64_t after = MR__NO_HALT; /* the item after which nothing starts */
      MPI_Mrecv(&after, 1, MPI_UINT64_T, &msg, MPI_STATUS_IGNORE);
      mr__halt_at(after);
      continue;
    }
    if (st.MPI_TAG == MR__TAG_STOP) {
      int32_t mode = 0;
      MPI_Mrecv(&mode, 1, MPI_INT32_T, &msg, MPI_STATUS_IGNORE);
      w->stop = mode == MR__STOP_DISCARD ? 2 : 1;
      continue;
    }
    mr__task *t = w->free;
    if (!t || st.MPI_TAG != MR__TAG_WORK) { /* the master broke the protocol */
      MPI_Mrecv(NULL, 0, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
      if (!w->rc) w->rc = MR_EMPI;
      continue;
    }
    w->free = t->next;
    w->held++;
    t->work.len = 0;
    if (mr_buf_reserve(&t->work, (size_t)count)) {
      MPI_Mrecv(NULL, 0, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
      w->rc = MR_ENOMEM;
      task_recycle(w, t);
      continue;
    }
    MPI_Mrecv(t->work.data, count, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
    t->work.len = (size_t)count;
    if (w->stop == 2 || mr__work_check(t->work.data, t->work.len)) {
      if (w->stop != 2 && !w->rc) w->rc = MR_EMPI;
      task_recycle(w, t);
      continue;
    }
    if (w->pool) mr__pool_push(w->pool, t);
    else mr__taskq_push(&w->queue, t);
  }
}

static int compute(worker *w) {
  int n = 0;
  if (w->pool) {
    mr__task *t;
    while ((t = mr__pool_pop(w->pool))) {
      if (t->rc && !w->rc) w->rc = t->rc;
      if (w->stop == 2) task_recycle(w, t);
      else if (t->rc && t->rc != MR_EINTR) {
        if (send_failure(w, t, t->rc)) task_recycle(w, t);
      } else if (t->rc) task_recycle(w, t);
      else if (send_result(w, t) && !w->rc) w->rc = MR_EMPI;
      n++;
    }
    return n;
  }
  mr__task *t = mr__taskq_pop(&w->queue);
  if (!t) return 0;
  if (w->stop == 2) {
    task_recycle(w, t);
    return 1;
  }
  int rc = mr__chunk_compute(w->k, w->state, t->work.data, &t->result);
  if (rc) {
    if (!w->rc) w->rc = rc;
    if (send_failure(w, t, rc)) task_recycle(w, t);
  } else if (send_result(w, t) && !w->rc) {
    w->rc = MR_EMPI;
  }
  return 1;
}

static int worker_setup(worker *w, const mr__farm_cfg *cfg) {
  int threads = cfg->threads < 1 ? 1 : cfg->threads;
  /* the master keeps at most depth (+ SIZER_DEPTH_EXTRA of short chunks)
   * here; results may still be in flight when new work arrives, hence the
   * doubling */
  w->ntasks = 2 * (mr__sizer_rank_depth(threads) + SIZER_DEPTH_EXTRA) + 2;
  w->tasks = calloc((size_t)w->ntasks, sizeof *w->tasks);
  w->sending = calloc((size_t)w->ntasks, sizeof *w->sending);
  w->send_reqs = calloc((size_t)w->ntasks, sizeof *w->send_reqs);
  if (!w->tasks || !w->sending || !w->send_reqs) return MR_ENOMEM;
  for (int i = 0; i < w->ntasks; i++) {
    w->tasks[i].next = w->free;
    w->free = &w->tasks[i];
  }
  w->held = 0;
  if (threads > 1) return mr__pool_new(threads, w->k, &w->pool);
  int err = w->k->thread_init ? w->k->thread_init(w->k->ctx, &w->state) : 0;
  w->state_ok = err == 0;
  return err;
}

static void worker_teardown(worker *w) {
  mr__pool_free(w->pool);
  if (w->state_ok && w->k->thread_fini) w->k->thread_fini(w->k->ctx, w->state);
  for (int i = 0; w->tasks && i < w->ntasks; i++) {
    mr_buf_free(&w->tasks[i].work);
    mr_buf_free(&w->tasks[i].result);
  }
  free(w->tasks);
  free(w->sending);
  free(w->send_reqs);
}

int mr__worker_run(MPI_Comm comm, const mr__farm_cfg *cfg,
                   const mr__kernel *k) {
  worker w;
  memset(&w, 0, sizeof w);
  atomic_store(&mr__halt_seq, MR__NO_HALT);
  w.comm = comm;
  w.k = k;
  int threads = cfg->threads < 1 ? 1 : cfg->threads;
  int rc = worker_setup(&w, cfg);
  int all = rc;
  MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
  if (all) {
    worker_teardown(&w);
    return all;
  }
  mr__idle idle = {0};
  for (;;) {
    int progress = receive(&w);
    progress += compute(&w);
    progress += sends_progress(&w);
    if (w.stop && w.held == 0) break;
    if (progress) {
      idle_reset(&idle);
      continue;
    }
    uint32_t ns = mr__idle_next(&idle);
    if (!ns) continue;
    if (w.pool && mr__pool_pending(w.pool) > 0) {
      mr__pool_wait(w.pool, ns);
    } else {
      struct timespec ts = {0, (long)ns};
      nanosleep(&ts, NULL);
    }
  }
  mr__bye bye = {w.rc, threads, w.busy_ns};
  MPI_Send(&bye, (int)sizeof bye, MPI_BYTE, 0, MR__TAG_BYE, comm);
  worker_teardown(&w);
  /* the run's outcome, as the master saw it */
  rc = w.rc;
  MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
  return rc;
}
