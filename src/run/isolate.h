/* isolate.h: --isolate, the job in a child process.
 *
 * A crashing item (segfault, abort, exit()) must cost only that item: a
 * crash in a rank takes the whole MPI job down. So each computing thread
 * forks a child that runs the job; a chunk goes to it whole (one round trip
 * per chunk, not per item) and the answers come back through shared memory
 * item by item, so that when the child dies, every item before the one it
 * died on is kept, that one fails (MR_ECRASH, or MR_ETIMEDOUT when the
 * parent killed it for running past its limit), a new child is forked and
 * the rest of the chunk goes on. */
#ifndef MR_ISOLATE_H
#define MR_ISOLATE_H

#include "farm/chunk.h"

typedef struct mr__isolate {
  const mr__kernel *inner; /* the kernel to run in the child */
} mr__isolate;

/* A kernel that runs iso->inner in children (iso must outlive it). */
mr__kernel mr__isolate_kernel(mr__isolate *iso);

#endif
