/* doneset.h: the items an earlier run finished, as a resumed run sees them:
 * built from journal records or joblog lines, the latest record of an item
 * winning (a failure later redone successfully is done). */
#ifndef MR_DONESET_H
#define MR_DONESET_H

#include <stddef.h>
#include <stdint.h>

typedef struct mr__jrec {
  uint64_t seq, end;           /* items [seq, end) */
  uint64_t out_begin, out_end; /* their bytes in the partial file (journal) */
  uint64_t h_first;            /* mr__doneset_hash of item seq */
  uint64_t h_all;              /* mr__doneset_chain of items [seq, end), in order */
  int32_t status;              /* 0 for results, or the failure */
  uint32_t order;              /* position in the file: later wins */
} mr__jrec;

typedef struct mr__doneset {
  mr__jrec *r; /* effective records, by seq */
  size_t n;
  size_t cursor;
} mr__doneset;

/* The hash recorded for an item (or a joblog command). */
uint64_t mr__doneset_hash(const char *text, size_t len);
/* A record's items hashed in order, so that every item counts (an edit or
 * a swap inside a chunk changes it) in 8 bytes per record: start from
 * h = 0, then h = mr__doneset_chain(h, mr__doneset_hash(item)) for each item. */
uint64_t mr__doneset_chain(uint64_t h, uint64_t item_hash);

/* Keeps, of recs (in file order), what is in force, sorted by seq. */
int mr__doneset_build(mr__doneset *d, const mr__jrec *recs, size_t n);
void mr__doneset_free(mr__doneset *d);

/* Is item seq done (a failure counts unless rerun_failed)? *rec receives
 * the record in force that holds it (its hashes check the item), or NULL.
 * seq must not decrease from call to call. */
int mr__doneset_skip(mr__doneset *d, uint64_t seq, int rerun_failed,
                 const mr__jrec **rec);
/* Index one past the last item recorded, 0 when nothing is. */
uint64_t mr__doneset_end(const mr__doneset *d);
/* Items whose record in force is a failure. */
uint64_t mr__doneset_failed(const mr__doneset *d);

#endif
