/* pool.c: a fixed set of threads computing chunks from a FIFO queue. */
#include "farm/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct mr__pool {
  pthread_mutex_t mu;
  pthread_cond_t has_work;
  pthread_cond_t has_done;
  mr__taskq in;
  mr__task *out_head, *out_tail;
  int pending;
  int quit;
  int discard;  /* quit without computing what is queued (mr__pool_stop) */
  int exited;   /* threads that have returned */
  int nthreads;
  int started;
  int init_rc;
  int ready;
  const mr__kernel *k;
  pthread_t *threads;
  void *here_state; /* mr__pool_run_here's kernel state */
  int here_init;    /* 0 not yet, 1 ready, <0 its thread_init failed */
};

static void queue_push(mr__task **head, mr__task **tail, mr__task *t) {
  t->next = NULL;
  if (*tail) (*tail)->next = t;
  else *head = t;
  *tail = t;
}

static mr__task *queue_pop(mr__task **head, mr__task **tail) {
  mr__task *t = *head;
  if (t) {
    *head = t->next;
    if (!*head) *tail = NULL;
    t->next = NULL;
  }
  return t;
}

void mr__taskq_push(mr__taskq *q, mr__task *t) {
  if (!work_urgent(&t->work)) {
    queue_push(&q->head, &q->tail, t);
    return;
  }
  /* behind the urgent ones already queued, ahead of everything else */
  mr__task **at = q->urgent ? &q->urgent->next : &q->head;
  t->next = *at;
  *at = t;
  if (!t->next) q->tail = t;
  q->urgent = t;
}

mr__task *mr__taskq_pop(mr__taskq *q) {
  mr__task *t = queue_pop(&q->head, &q->tail);
  if (t && t == q->urgent) q->urgent = NULL;
  return t;
}

static void *pool_main(void *arg) {
  mr__pool *p = arg;
  void *state = NULL;
  int rc = p->k->thread_init ? p->k->thread_init(p->k->ctx, &state) : 0;
  pthread_mutex_lock(&p->mu);
  if (rc && !p->init_rc) p->init_rc = rc;
  p->ready++;
  pthread_cond_broadcast(&p->has_done);
  for (;;) {
    mr__task *t;
    while (!(t = mr__taskq_pop(&p->in)) && !p->quit)
      pthread_cond_wait(&p->has_work, &p->mu);
    if (!t) break;
    if (p->discard) { /* left unrun: a failed task, not a result */
      t->rc = MR_EINTR;
      queue_push(&p->out_head, &p->out_tail, t);
      continue;
    }
    pthread_mutex_unlock(&p->mu);
    t->rc = rc ? rc : mr__chunk_compute(p->k, state, t->work.data, &t->result);
    pthread_mutex_lock(&p->mu);
    queue_push(&p->out_head, &p->out_tail, t);
    pthread_cond_signal(&p->has_done);
  }
  pthread_mutex_unlock(&p->mu);
  if (!rc && p->k->thread_fini) p->k->thread_fini(p->k->ctx, state);
  pthread_mutex_lock(&p->mu);
  p->exited++;
  pthread_cond_broadcast(&p->has_done);
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int mr__pool_new(int n, const mr__kernel *k, mr__pool **out) {
  *out = NULL;
  mr__pool *p = calloc(1, sizeof *p);
  if (!p) return MR_ENOMEM;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->has_work, NULL);
  pthread_cond_init(&p->has_done, NULL);
  p->k = k;
  p->nthreads = n < 1 ? 1 : n;
  p->threads = calloc((size_t)p->nthreads, sizeof *p->threads);
  if (!p->threads) {
    mr__pool_free(p);
    return MR_ENOMEM;
  }
  for (int i = 0; i < p->nthreads; i++) {
    if (pthread_create(&p->threads[i], NULL, pool_main, p)) {
      mr__pool_free(p);
      return MR_ENOMEM;
    }
    p->started++;
  }
  /* report a failing job init now rather than on the first task */
  pthread_mutex_lock(&p->mu);
  while (p->ready < p->started) pthread_cond_wait(&p->has_done, &p->mu);
  int rc = p->init_rc;
  pthread_mutex_unlock(&p->mu);
  if (rc) {
    mr__pool_free(p);
    return rc;
  }
  *out = p;
  return 0;
}

static struct timespec realtime_after(uint64_t ns) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ns += (uint64_t)ts.tv_nsec;
  ts.tv_sec += (time_t)(ns / 1000000000u);
  ts.tv_nsec = (long)(ns % 1000000000u);
  return ts;
}

int mr__pool_stop(mr__pool *p, uint64_t wait_ns) {
  if (!p) return 0;
  struct timespec until = realtime_after(wait_ns);
  pthread_mutex_lock(&p->mu);
  p->quit = p->discard = 1;
  pthread_cond_broadcast(&p->has_work);
  int rc = 0;
  while (p->exited < p->started && rc != ETIMEDOUT)
    rc = pthread_cond_timedwait(&p->has_done, &p->mu, &until);
  int all = p->exited == p->started;
  pthread_mutex_unlock(&p->mu);
  return all ? 0 : MR_EINTR;
}

void mr__pool_free(mr__pool *p) {
  if (!p) return;
  if (p->here_init == 1 && p->k->thread_fini) p->k->thread_fini(p->k->ctx, p->here_state);
  pthread_mutex_lock(&p->mu);
  p->quit = 1;
  pthread_cond_broadcast(&p->has_work);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->started; i++) pthread_join(p->threads[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->has_work);
  pthread_cond_destroy(&p->has_done);
  free(p->threads);
  free(p);
}

void mr__pool_push(mr__pool *p, mr__task *t) {
  pthread_mutex_lock(&p->mu);
  mr__taskq_push(&p->in, t);
  p->pending++;
  pthread_cond_signal(&p->has_work);
  pthread_mutex_unlock(&p->mu);
}

int mr__pool_run_here(mr__pool *p, mr__task *t) {
  if (p->here_init == 0) {
    int rc = p->k->thread_init ? p->k->thread_init(p->k->ctx, &p->here_state) : 0;
    p->here_init = rc ? (rc < 0 ? rc : MR_EJOB) : 1;
  }
  if (p->here_init < 0) return p->here_init;
  t->rc = mr__chunk_compute(p->k, p->here_state, t->work.data, &t->result);
  pthread_mutex_lock(&p->mu);
  queue_push(&p->out_head, &p->out_tail, t);
  p->pending++;
  pthread_mutex_unlock(&p->mu);
  return 0;
}

mr__task *mr__pool_pop(mr__pool *p) {
  pthread_mutex_lock(&p->mu);
  mr__task *t = queue_pop(&p->out_head, &p->out_tail);
  if (t) p->pending--;
  pthread_mutex_unlock(&p->mu);
  return t;
}

void mr__pool_wait(mr__pool *p, uint64_t timeout_ns) {
  struct timespec ts = realtime_after(timeout_ns);
  pthread_mutex_lock(&p->mu);
  if (!p->out_head) pthread_cond_timedwait(&p->has_done, &p->mu, &ts);
  pthread_mutex_unlock(&p->mu);
}

int mr__pool_pending(mr__pool *p) {
  pthread_mutex_lock(&p->mu);
  int n = p->pending;
  pthread_mutex_unlock(&p->mu);
  return n;
}

int mr__pool_threads(const mr__pool *p) { return p->nthreads; }
