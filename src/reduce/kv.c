/* kv.c: the key -> accumulator map (kv.h): open addressing with linear
 * probing; keys in an arena of large blocks, so a million small keys are a
 * few allocations. */
#include "reduce/kv.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK (1u << 20)
#define MIN_SLOTS 1024

typedef struct block {
  struct block *next;
  size_t used, cap;
  char data[];
} block;

struct mr__kv {
  mr__kv_entry *slots; /* key == NULL: empty */
  size_t nslots, count;
  block *arena;
  size_t arena_bytes;
  size_t list_bytes; /* values kept in lists (concat, a reducer's): told by
                        the caller through mr__kv_grew */
};

uint64_t mr__kv_hash(const char *key, size_t len) {
  /* FNV-1a, then a finaliser so the low bits (the rank) mix well */
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

mr__kv *mr__kv_new(void) {
  mr__kv *kv = calloc(1, sizeof *kv);
  if (!kv) return NULL;
  kv->nslots = MIN_SLOTS;
  kv->slots = calloc(kv->nslots, sizeof *kv->slots);
  if (!kv->slots) {
    free(kv);
    return NULL;
  }
  return kv;
}

void mr__kv_free(mr__kv *kv) {
  if (!kv) return;
  for (size_t i = 0; i < kv->nslots; i++)
    if (kv->slots[i].key) mr__acc_free(&kv->slots[i].acc);
  free(kv->slots);
  for (block *b = kv->arena, *n; b; b = n) {
    n = b->next;
    free(b);
  }
  free(kv);
}

static const char *arena_copy(mr__kv *kv, const char *key, size_t len) {
  block *b = kv->arena;
  if (!b || b->cap - b->used < len + 1) {
    size_t cap = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;
    block *nb = malloc(sizeof *nb + cap);
    if (!nb) return NULL;
    nb->used = 0;
    nb->cap = cap;
    kv->arena_bytes += cap;
    if (b && len + 1 > ARENA_BLOCK) { /* a huge key: keep the open block open */
      nb->next = b->next;
      b->next = nb;
    } else {
      nb->next = b;
      kv->arena = nb;
    }
    b = nb;
  }
  char *p = b->data + b->used;
  memcpy(p, key, len);
  p[len] = '\0';
  b->used += len + 1;
  return p;
}

static int grow(mr__kv *kv) {
  size_t n = kv->nslots * 2;
  mr__kv_entry *s = calloc(n, sizeof *s);
  if (!s) return MR_ENOMEM;
  for (size_t i = 0; i < kv->nslots; i++) {
    if (!kv->slots[i].key) continue;
    size_t j = kv->slots[i].hash & (n - 1);
    while (s[j].key) j = (j + 1) & (n - 1);
    s[j] = kv->slots[i];
  }
  free(kv->slots);
  kv->slots = s;
  kv->nslots = n;
  return 0;
}

mr__kv_entry *mr__kv_get(mr__kv *kv, const char *key, size_t len, uint64_t hash) {
  if (len > UINT32_MAX) return NULL;
  size_t mask = kv->nslots - 1, j = hash & mask;
  for (;;) {
    mr__kv_entry *e = &kv->slots[j];
    if (!e->key) break;
    if (e->hash == hash && e->klen == len && memcmp(e->key, key, len) == 0) return e;
    j = (j + 1) & mask;
  }
  if ((kv->count + 1) * 10 > kv->nslots * 7) { /* load over 0.7 */
    if (grow(kv)) return NULL;
    mask = kv->nslots - 1;
    j = hash & mask;
    while (kv->slots[j].key) j = (j + 1) & mask;
  }
  const char *k = arena_copy(kv, key, len);
  if (!k) return NULL;
  mr__kv_entry *e = &kv->slots[j];
  memset(e, 0, sizeof *e);
  e->hash = hash;
  e->key = k;
  e->klen = (uint32_t)len;
  kv->count++;
  return e;
}

size_t mr__kv_count(const mr__kv *kv) { return kv ? kv->count : 0; }

mr__kv_entry *mr__kv_next(mr__kv *kv, size_t *at) {
  for (; *at < kv->nslots; (*at)++)
    if (kv->slots[*at].key) return &kv->slots[(*at)++];
  return NULL;
}

size_t mr__kv_bytes(const mr__kv *kv) {
  return kv->nslots * sizeof *kv->slots + kv->arena_bytes + kv->list_bytes;
}

void mr__kv_grew(mr__kv *kv, size_t bytes) { kv->list_bytes += bytes; }

int mr__kv_keycmp(const char *a, size_t an, const char *b, size_t bn) {
  int c = memcmp(a, b, an < bn ? an : bn);
  if (c) return c;
  return an < bn ? -1 : an > bn ? 1 : 0;
}

static int entry_cmp(const void *x, const void *y) {
  const mr__kv_entry *a = *(mr__kv_entry *const *)x, *b = *(mr__kv_entry *const *)y;
  return mr__kv_keycmp(a->key, a->klen, b->key, b->klen);
}

mr__kv_entry **mr__kv_sorted(mr__kv *kv) {
  mr__kv_entry **v = malloc((kv->count ? kv->count : 1) * sizeof *v);
  if (!v) return NULL;
  size_t k = 0, at = 0;
  mr__kv_entry *e;
  while ((e = mr__kv_next(kv, &at))) v[k++] = e;
  qsort(v, k, sizeof *v, entry_cmp);
  return v;
}
