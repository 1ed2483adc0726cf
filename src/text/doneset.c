/* doneset.c: which items an earlier run finished. */
#include "text/doneset.h"

#include <stdlib.h>
#include <string.h>

#include "mapreduce.h"

uint64_t mr__doneset_hash(const char *text, size_t len) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
  return h;
}

uint64_t mr__doneset_chain(uint64_t h, uint64_t item_hash) {
  /* splitmix64's finalizer over the running value and the item's hash:
   * order matters, so a swap of two items changes the result */
  uint64_t x = (h ^ item_hash) * 0x9e3779b97f4a7c15ull + h;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static int by_seq_latest_first(const void *a, const void *b) {
  const mr__jrec *x = a, *y = b;
  if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
  return x->order > y->order ? -1 : x->order < y->order;
}

int mr__doneset_build(mr__doneset *d, const mr__jrec *recs, size_t n) {
  memset(d, 0, sizeof *d);
  if (!n) return 0;
  mr__jrec *all = malloc(n * sizeof *all);
  if (!all) return MR_ENOMEM;
  memcpy(all, recs, n * sizeof *all);
  qsort(all, n, sizeof *all, by_seq_latest_first);
  /* A record is out of force when a later one covers its items: a failure
   * rerun by a resumed run. Results never overlap each other (done items
   * are never redone), so one sweep by seq finds those. */
  size_t kept = 0;
  uint64_t covered_end = 0;
  uint32_t covered_order = 0;
  for (size_t i = 0; i < n; i++) {
    const mr__jrec *r = &all[i];
    if (kept && r->seq < covered_end && r->order < covered_order) continue;
    all[kept++] = *r;
    if (r->end > covered_end) {
      covered_end = r->end;
      covered_order = r->order;
    }
  }
  d->r = all;
  d->n = kept;
  return 0;
}

void mr__doneset_free(mr__doneset *d) {
  free(d->r);
  memset(d, 0, sizeof *d);
}

int mr__doneset_skip(mr__doneset *d, uint64_t seq, int rerun_failed,
                 const mr__jrec **rec) {
  *rec = NULL;
  while (d->cursor < d->n && d->r[d->cursor].end <= seq) d->cursor++;
  if (d->cursor == d->n || d->r[d->cursor].seq > seq) return 0;
  *rec = &d->r[d->cursor];
  return !(rerun_failed && (*rec)->status != 0);
}

uint64_t mr__doneset_end(const mr__doneset *d) {
  uint64_t end = 0;
  for (size_t i = 0; i < d->n; i++)
    if (d->r[i].end > end) end = d->r[i].end;
  return end;
}

uint64_t mr__doneset_failed(const mr__doneset *d) {
  uint64_t n = 0;
  for (size_t i = 0; i < d->n; i++)
    if (d->r[i].status) n += d->r[i].end - d->r[i].seq;
  return n;
}
