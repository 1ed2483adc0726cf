/* acc.c: accumulators (acc.h). */
#include "reduce/acc.h"

#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = {"sum",  "count", "min",   "max",
                                       "mean", "first", "concat"};

mr__op mr__op_parse(const char *s) {
  for (int i = 0; i < MR__OP_NONE; i++)
    if (strcmp(s, op_names[i]) == 0) return (mr__op)i;
  return MR__OP_NONE;
}

const char *mr__op_name(mr__op op) { return op < MR__OP_NONE ? op_names[op] : "?"; }

int mr__op_numeric(mr__op op) {
  return op == MR__OP_SUM || op == MR__OP_MIN || op == MR__OP_MAX || op == MR__OP_MEAN;
}

void mr__acc_free(mr__acc *a) {
  if (a->dec) {
    mr__dec_clear(a->dec);
    free(a->dec);
  }
  if (a->list) {
    mr_buf_free(a->list);
    free(a->list);
  }
  memset(a, 0, sizeof *a);
}

static int is_word(const char *v, size_t n, const char *w) {
  return n == strlen(w) && memcmp(v, w, n) == 0;
}

/* 1 true, 0 false, -1 neither */
static int boolean(const char *v, size_t n) {
  if (is_word(v, n, "true")) return 1;
  if (is_word(v, n, "false")) return 0;
  return -1;
}

int mr__acc_check(mr__op op, const char *v, size_t n, mr_buf *why) {
  if (!mr__op_numeric(op)) return 0;
  int64_t x;
  if (boolean(v, n) >= 0 || mr__dec_small(v, n, &x)) return 0;
  mr__dec d;
  mr__dec_init(&d);
  int rc = mr__dec_parse(&d, v, n);
  mr__dec_clear(&d);
  if (rc == MR_ENOMEM) return rc;
  if (rc) {
    size_t show = n > 60 ? 60 : n;
    mr_buf_printf(why, "%s needs a number, not '%.*s'%s", mr__op_name(op), (int)show, v,
                  show < n ? "..." : "");
    for (size_t i = 0; why->data && i < why->len; i++)
      if (why->data[i] == '\n' || why->data[i] == '\r') why->data[i] = ' ';
    return MR_EINVAL;
  }
  return 0;
}

/* ---- numbers: small while they fit, else a dec */

static int to_big(mr__acc *a) {
  if (a->dec) return 0;
  a->dec = malloc(sizeof *a->dec);
  if (!a->dec) return MR_ENOMEM;
  mr__dec_init(a->dec);
  mr__dec_set_i64(a->dec, a->small);
  return 0;
}

/* Folds the number x (small) or d (big, when d) into a's value. */
static int fold_num(mr__op op, mr__acc *a, int64_t x, const mr__dec *d) {
  int first = a->n == 0;
  if (!d && !a->dec) {
    if (first) {
      a->small = x;
    } else if (op == MR__OP_MIN) {
      if (x < a->small) a->small = x;
    } else if (op == MR__OP_MAX) {
      if (x > a->small) a->small = x;
    } else {
      int64_t s;
      if (!__builtin_add_overflow(a->small, x, &s)) {
        a->small = s;
      } else {
        if (to_big(a)) return MR_ENOMEM;
        mr__dec t;
        mr__dec_init(&t);
        mr__dec_set_i64(&t, x);
        mr__dec_add(a->dec, &t);
        mr__dec_clear(&t);
      }
    }
    return 0;
  }
  mr__dec t;
  mr__dec_init(&t);
  if (!d) {
    mr__dec_set_i64(&t, x);
    d = &t;
  }
  int rc = 0;
  if (first) {
    rc = to_big(a);
    if (!rc) mr__dec_set(a->dec, d);
  } else if (!(rc = to_big(a))) {
    if (op == MR__OP_MIN) {
      if (mr__dec_cmp(d, a->dec) < 0) mr__dec_set(a->dec, d);
    } else if (op == MR__OP_MAX) {
      if (mr__dec_cmp(d, a->dec) > 0) mr__dec_set(a->dec, d);
    } else {
      mr__dec_add(a->dec, d);
    }
  }
  mr__dec_clear(&t);
  return rc;
}

/* ---- first and concat: records of pos and bytes */

typedef struct rec_hdr {
  uint64_t seq;
  uint32_t sub;
  uint32_t len;
} rec_hdr;

static int list_add(mr__acc *a, mr__pos pos, const char *v, size_t n) {
  if (n > UINT32_MAX) return MR_ERANGE;
  if (!a->list && !(a->list = calloc(1, sizeof *a->list))) return MR_ENOMEM;
  rec_hdr h = {pos.seq, pos.sub, (uint32_t)n};
  if (mr_buf_reserve(a->list, sizeof h + n)) return MR_ENOMEM;
  mr_buf_append(a->list, &h, sizeof h);
  return mr_buf_append(a->list, v, n);
}

static int pos_before(const rec_hdr *x, const rec_hdr *y) {
  return x->seq < y->seq || (x->seq == y->seq && x->sub < y->sub);
}

/* first: the one record kept is the earliest */
static int first_offer(mr__acc *a, mr__pos pos, const char *v, size_t n) {
  if (a->list && a->list->len >= sizeof(rec_hdr)) {
    rec_hdr h, mine = {pos.seq, pos.sub, 0};
    memcpy(&h, a->list->data, sizeof h);
    if (!pos_before(&mine, &h)) return 0;
    a->list->len = 0;
  }
  return list_add(a, pos, v, n);
}

int mr__acc_add(mr__op op, mr__acc *a, const char *v, size_t n, mr__pos pos) {
  int b = boolean(v, n);
  int rc = 0;
  if (mr__op_numeric(op)) {
    int64_t x;
    if (b >= 0) {
      rc = fold_num(op, a, b, NULL);
    } else if (mr__dec_small(v, n, &x)) {
      rc = fold_num(op, a, x, NULL);
    } else {
      mr__dec d;
      mr__dec_init(&d);
      rc = mr__dec_parse(&d, v, n);
      if (!rc) rc = fold_num(op, a, 0, &d);
      mr__dec_clear(&d);
    }
  } else if (op == MR__OP_FIRST) {
    rc = first_offer(a, pos, v, n);
  } else if (op == MR__OP_CONCAT) {
    rc = list_add(a, pos, v, n);
  }
  if (rc) return rc;
  a->n++;
  if (b >= 0) {
    a->nbool++;
    a->ntrue += (uint64_t)b;
  }
  return 0;
}

int mr__acc_add_i64(mr__op op, mr__acc *a, int64_t x) {
  int rc = fold_num(op, a, x, NULL);
  if (!rc) a->n++;
  return rc;
}

int mr__acc_merge(mr__op op, mr__acc *a, const mr__acc *b) {
  if (b->n == 0) return 0;
  int rc = 0;
  if (mr__op_numeric(op)) {
    rc = fold_num(op, a, b->small, b->dec);
  } else if (op == MR__OP_FIRST && b->list && b->list->len >= sizeof(rec_hdr)) {
    rec_hdr h;
    memcpy(&h, b->list->data, sizeof h);
    rc = first_offer(a, (mr__pos){h.seq, h.sub}, b->list->data + sizeof h, h.len);
  } else if (op == MR__OP_CONCAT && b->list) {
    if (!a->list && !(a->list = calloc(1, sizeof *a->list))) return MR_ENOMEM;
    rc = mr_buf_append(a->list, b->list->data, b->list->len);
  }
  if (rc) return rc;
  a->n += b->n;
  a->ntrue += b->ntrue;
  a->nbool += b->nbool;
  return 0;
}

/* ---- packing: n, ntrue, nbool, a kind byte, then the value */

enum { K_NONE, K_SMALL, K_BIG, K_LIST };

int mr__acc_pack(mr__op op, const mr__acc *a, mr_buf *out) {
  uint64_t c[3] = {a->n, a->ntrue, a->nbool};
  if (mr_buf_append(out, c, sizeof c)) return MR_ENOMEM;
  char kind = a->n == 0 ? K_NONE : a->dec ? K_BIG : mr__op_numeric(op) ? K_SMALL
              : a->list ? K_LIST : K_NONE;
  if (mr_buf_append(out, &kind, 1)) return MR_ENOMEM;
  if (kind == K_SMALL) return mr_buf_append(out, &a->small, sizeof a->small);
  size_t at = out->len;
  uint64_t len = 0;
  if (kind == K_NONE) return 0;
  if (mr_buf_append(out, &len, sizeof len)) return MR_ENOMEM;
  if (kind == K_BIG) {
    if (mr__dec_format(a->dec, out)) return MR_ENOMEM;
  } else if (mr_buf_append(out, a->list->data, a->list->len)) {
    return MR_ENOMEM;
  }
  len = out->len - at - sizeof len;
  memcpy(out->data + at, &len, sizeof len);
  return 0;
}

int mr__acc_unpack(mr__op op, mr__acc *a, const char *p, size_t n) {
  uint64_t c[3];
  if (n < sizeof c + 1) return MR_EINVAL;
  memcpy(c, p, sizeof c);
  char kind = p[sizeof c];
  p += sizeof c + 1;
  n -= sizeof c + 1;
  a->n = c[0];
  a->ntrue = c[1];
  a->nbool = c[2];
  if (kind == K_NONE) return n == 0 ? 0 : MR_EINVAL;
  if (kind == K_SMALL) {
    if (n != sizeof a->small) return MR_EINVAL;
    memcpy(&a->small, p, sizeof a->small);
    return 0;
  }
  uint64_t len;
  if (n < sizeof len) return MR_EINVAL;
  memcpy(&len, p, sizeof len);
  p += sizeof len;
  if (len != n - sizeof len) return MR_EINVAL;
  if (kind == K_BIG) {
    if (to_big(a)) return MR_ENOMEM;
    return mr__dec_parse(a->dec, p, len) ? MR_EINVAL : 0;
  }
  if (kind != K_LIST || op < MR__OP_FIRST) return MR_EINVAL;
  if (!(a->list = calloc(1, sizeof *a->list))) return MR_ENOMEM;
  return mr_buf_append(a->list, p, len);
}

/* ---- the result */

static int rec_cmp(const void *x, const void *y) {
  rec_hdr a, b;
  memcpy(&a, *(const char *const *)x, sizeof a);
  memcpy(&b, *(const char *const *)y, sizeof b);
  return pos_before(&a, &b) ? -1 : pos_before(&b, &a) ? 1 : 0;
}

/* a's records in input order (caller frees; NULL with *n 0: none, or out
 * of memory when a has values) */
static const char **recs_sorted(const mr__acc *a, size_t *n) {
  *n = 0;
  if (!a->list || a->n == 0) return NULL;
  const char **recs = malloc(a->n * sizeof *recs);
  if (!recs) return NULL;
  size_t k = 0;
  for (size_t at = 0; at + sizeof(rec_hdr) <= a->list->len && k < a->n; k++) {
    rec_hdr h;
    recs[k] = a->list->data + at;
    memcpy(&h, recs[k], sizeof h);
    at += sizeof h + h.len;
  }
  size_t i = 1; /* one rank's and thread's values are in order already */
  while (i < k && rec_cmp(&recs[i - 1], &recs[i]) <= 0) i++;
  if (i < k) qsort(recs, k, sizeof *recs, rec_cmp);
  *n = k;
  return recs;
}

int mr__acc_format_lines(const mr__acc *a, const char *key, size_t klen, mr_buf *out) {
  size_t k;
  const char **recs = recs_sorted(a, &k);
  if (!recs) return a->list && a->n ? MR_ENOMEM : 0;
  int rc = 0;
  for (size_t i = 0; i < k && !rc; i++) {
    rec_hdr h;
    memcpy(&h, recs[i], sizeof h);
    if (mr_buf_reserve(out, klen + h.len + 2)) rc = MR_ENOMEM;
    else {
      mr_buf_append(out, key, klen);
      mr_buf_append(out, "\t", 1);
      mr_buf_append(out, recs[i] + sizeof h, h.len);
      mr_buf_append(out, "\n", 1);
    }
  }
  free(recs);
  return rc;
}

static int put_concat(const mr__acc *a, mr_buf *out) {
  size_t k;
  const char **recs = recs_sorted(a, &k);
  if (!recs) return a->list && a->n ? MR_ENOMEM : 0;
  int rc = 0;
  for (size_t i = 0; i < k && !rc; i++) {
    rec_hdr h;
    memcpy(&h, recs[i], sizeof h);
    if (i) rc = mr_buf_puts(out, ",");
    if (!rc) rc = mr_buf_append(out, recs[i] + sizeof h, h.len);
  }
  free(recs);
  return rc;
}

int mr__acc_format(mr__op op, const mr__acc *a, int bool_count, mr_buf *out) {
  switch (op) {
  case MR__OP_COUNT:
    return mr_buf_printf(out, "%llu", (unsigned long long)(bool_count && a->n && a->nbool == a->n
                                                                ? a->ntrue : a->n));
  case MR__OP_SUM:
    if (a->dec) return mr__dec_format(a->dec, out);
    return mr_buf_printf(out, "%lld", (long long)(a->n ? a->small : 0));
  case MR__OP_MIN:
  case MR__OP_MAX:
    if (a->n == 0) return 0;
    if (a->dec) return mr__dec_format(a->dec, out);
    return mr_buf_printf(out, "%lld", (long long)a->small);
  case MR__OP_MEAN: {
    if (a->n == 0) return 0;
    if (a->dec) return mr__dec_format_div(a->dec, a->n, out);
    mr__dec t;
    mr__dec_init(&t);
    mr__dec_set_i64(&t, a->small);
    int rc = mr__dec_format_div(&t, a->n, out);
    mr__dec_clear(&t);
    return rc;
  }
  case MR__OP_FIRST: {
    if (!a->list || a->list->len < sizeof(rec_hdr)) return 0;
    rec_hdr h;
    memcpy(&h, a->list->data, sizeof h);
    return mr_buf_append(out, a->list->data + sizeof h, h.len);
  }
  case MR__OP_CONCAT: return put_concat(a, out);
  default: return MR_EINVAL;
  }
}
