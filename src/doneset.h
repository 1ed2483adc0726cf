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
  uint64_t h_first, h_last;    /* hashes of items seq and end - 1 */
  int32_t status;              /* 0 for results, or the failure */
  uint32_t order;              /* position in the file: later wins */
} mr__jrec;

typedef struct mr__doneset {
  mr__jrec *r; /* effective records, by seq */
  size_t n;
  size_t cursor;
} mr__doneset;

/* The hash recorded for an item (or a joblog command). */
uint64_t doneset_hash(const char *text, size_t len);

/* Keeps, of recs (in file order), what is in force, sorted by seq. */
int doneset_build(mr__doneset *d, const mr__jrec *recs, size_t n);
void doneset_free(mr__doneset *d);

/* Is item seq done (a failure counts unless rerun_failed)? When its hash is
 * recorded, *check receives it and *has_check is set. seq must not
 * decrease from call to call. */
int doneset_skip(mr__doneset *d, uint64_t seq, int rerun_failed,
                 uint64_t *check, int *has_check);
/* Items whose record in force is a failure. */
uint64_t doneset_failed(const mr__doneset *d);

#endif
