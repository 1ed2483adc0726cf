/* ring.h: the ordered output's ring: the slot of every chunk sent and not
 * yet handed on, in input order. A chunk's id is its place in that order;
 * the chunk of id sits at id % n, so at most n wait at once (the master
 * sends no more while the ring is full). With --unordered nothing waits:
 * ids still count up, and the ring is only written. No MPI. */
#ifndef MR_RING_H
#define MR_RING_H

#include <stdint.h>
#include <stdlib.h>

typedef struct mr__ring {
  uint32_t *slot;
  uint32_t n;
  uint64_t next_id; /* the id of the next chunk sent */
  uint64_t head_id; /* the oldest chunk not yet handed on */
} mr__ring;

/* Room for n chunks. 0, or nonzero out of memory. */
static inline int mr__ring_init(mr__ring *r, uint32_t n) {
  r->slot = malloc(n * sizeof *r->slot);
  r->n = n;
  r->next_id = r->head_id = 0;
  return r->slot == NULL;
}

static inline void mr__ring_free(mr__ring *r) {
  free(r->slot);
  r->slot = NULL;
}

/* The chunk in slot is the next in input order: its id. */
static inline uint64_t mr__ring_push(mr__ring *r, uint32_t slot) {
  r->slot[r->next_id % r->n] = slot;
  return r->next_id++;
}

/* Are n chunks waiting (the ordered output takes no more)? */
static inline int mr__ring_full(const mr__ring *r) {
  return r->next_id - r->head_id >= r->n;
}

/* 1 and *slot the slot of the oldest chunk not yet handed on; 0: none. */
static inline int mr__ring_head(const mr__ring *r, uint32_t *slot) {
  if (r->head_id == r->next_id) return 0;
  *slot = r->slot[r->head_id % r->n];
  return 1;
}

/* The oldest chunk was handed on (or given up). */
static inline void mr__ring_pop(mr__ring *r) { r->head_id++; }

#endif
