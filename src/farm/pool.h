/* pool.h: computing threads inside one rank.
 * The master uses a pool to compute while it would otherwise wait, and a
 * worker uses one for -t N > 1. Tasks go in, finished tasks come out; only
 * the owning thread talks to MPI. */
#ifndef MR_POOL_H
#define MR_POOL_H

#include <stdint.h>

#include "farm/chunk.h"

typedef struct mr__task {
  struct mr__task *next;
  mr_buf work;   /* the work message */
  mr_buf result; /* filled by mr__chunk_compute */
  int rc;        /* 0, or a failure that is not an item's */
  uint32_t slot; /* owner's bookkeeping */
  uint64_t sent_ns; /* the master's: when it went out (an observer's) */
} mr__task;

/* A first-in first-out queue of tasks in which urgent work
 * (MR__WORK_URGENT) goes ahead of the rest, first in first out itself. */
typedef struct mr__taskq {
  mr__task *head, *tail;
  mr__task *urgent; /* the last urgent task in the queue, or NULL */
} mr__taskq;

void mr__taskq_push(mr__taskq *q, mr__task *t);
mr__task *mr__taskq_pop(mr__taskq *q);

typedef struct mr__pool mr__pool;

/* Starts n threads, each calling k->thread_init first, into *out: 0, or a
 * negative mr_error (MR_ENOMEM, or the job's init failure). */
int mr__pool_new(int n, const mr__kernel *k, mr__pool **out);
/* Joins the threads (after the queued tasks are done); accepts NULL. */
void mr__pool_free(mr__pool *p);
/* A stop: the threads compute nothing more that is queued (those tasks
 * come out with rc MR_EINTR) and end after their current task. Waits up
 * to wait_ns for them: 0 when all ended (mr__pool_free then only joins), or
 * MR_EINTR when one is still inside a task. Code that never returns
 * cannot be interrupted safely: the caller then leaves the pool, its
 * tasks and the kernel alone, and ends the process. Accepts NULL. */
int mr__pool_stop(mr__pool *p, uint64_t wait_ns);

void mr__pool_push(mr__pool *p, mr__task *t);
/* Computes t in the calling thread (with a kernel state of its own, made on
 * first use) and queues it as finished: for chunks so short that waking a
 * pool thread would cost more than computing them. Returns a failure of the
 * kernel's thread_init, else 0. */
int mr__pool_run_here(mr__pool *p, mr__task *t);
/* A finished task, or NULL. */
mr__task *mr__pool_pop(mr__pool *p);
/* Waits until a task is finished or timeout_ns passes. */
void mr__pool_wait(mr__pool *p, uint64_t timeout_ns);
/* Tasks pushed and not yet popped. */
int mr__pool_pending(mr__pool *p);
int mr__pool_threads(const mr__pool *p);

#endif
