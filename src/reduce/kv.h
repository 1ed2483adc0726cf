/* kv.h: a hash map from keys (any bytes but tab and newline) to
 * accumulators: the combiner on the rank that made the pairs, and the
 * per-key reduction on the rank that owns a key after the shuffle. */
#ifndef MR_KV_H
#define MR_KV_H

#include <stddef.h>
#include <stdint.h>

#include "reduce/acc.h"

typedef struct mr__kv_entry {
  uint64_t hash;
  const char *key; /* in the map's arena; not NUL-terminated */
  uint32_t klen;
  mr__acc acc;
} mr__kv_entry;

typedef struct mr__kv mr__kv;

/* The same on every rank and run: it picks the rank that owns a key. */
uint64_t mr__kv_hash(const char *key, size_t len);

mr__kv *mr__kv_new(void);
/* Frees the map and its accumulators; accepts NULL. */
void mr__kv_free(mr__kv *kv);
/* The entry of key (created empty when new), or NULL when out of memory.
 * Valid until the next call of mr__kv_get. */
mr__kv_entry *mr__kv_get(mr__kv *kv, const char *key, size_t len, uint64_t hash);
size_t mr__kv_count(const mr__kv *kv);
/* Entries by slot: *at starts at 0; NULL after the last. */
mr__kv_entry *mr__kv_next(mr__kv *kv, size_t *at);
/* Bytes the map holds (table, keys and accumulators, roughly). */
size_t mr__kv_bytes(const mr__kv *kv);
/* Counts bytes an entry's accumulator took on (a value kept in a list):
 * the map cannot see them, and a spill must. */
void mr__kv_grew(mr__kv *kv, size_t bytes);
/* The entries sorted by key in byte order (a shorter key before the
 * longer ones it begins). Caller frees the array; the entries stay in kv. */
mr__kv_entry **mr__kv_sorted(mr__kv *kv);
/* Byte order of two keys. */
int mr__kv_keycmp(const char *a, size_t an, const char *b, size_t bn);

#endif
