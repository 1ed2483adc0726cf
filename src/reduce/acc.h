/* acc.h: one accumulator of a reduction: the fold of values under an
 * operation (sum, count, min, max, mean, first, concat), exact, in any
 * order of folding and merging with the same result (first and concat
 * follow input order by the position each value carries). Partials
 * travel between ranks packed into bytes. */
#ifndef MR_ACC_H
#define MR_ACC_H

#include <stddef.h>
#include <stdint.h>

#include "mapreduce.h"
#include "reduce/dec.h"

typedef enum {
  MR__OP_SUM, MR__OP_COUNT, MR__OP_MIN, MR__OP_MAX, MR__OP_MEAN, MR__OP_FIRST,
  MR__OP_CONCAT, MR__OP_NONE
} mr__op;

/* The op named s, or MR__OP_NONE. */
mr__op mr__op_parse(const char *s);
const char *mr__op_name(mr__op op);
/* Whether the op reads its values as numbers. */
int mr__op_numeric(mr__op op);

/* Where a value stands in the input: its item, and its place among the
 * item's values; first and concat order by it. */
typedef struct mr__pos {
  uint64_t seq;
  uint32_t sub;
} mr__pos;

typedef struct mr__acc {
  uint64_t n;     /* values folded */
  uint64_t ntrue; /* of them `true` (and nbool `true` or `false`): a count */
  uint64_t nbool; /* of booleans counts the true ones (-r count) */
  int64_t small;  /* the value (sum, min, max, mean's sum) while it is an
                     integer that fits; big: in *dec */
  mr__dec *dec;
  mr_buf *list;   /* first, concat: records pos, length, bytes */
} mr__acc;

/* A zeroed acc is empty; free with mr__acc_free. */
void mr__acc_free(mr__acc *a);

/* Checks a value op can fold: 0, or MR_EINVAL with a message in why
 * ("'abc' is not a number"). Numbers as dec.h reads them; `true` and
 * `false` are 1 and 0. */
int mr__acc_check(mr__op op, const char *v, size_t n, mr_buf *why);
/* Folds one value (checked, or the fold fails with MR_EINVAL). */
int mr__acc_add(mr__op op, mr__acc *a, const char *v, size_t n, mr__pos pos);
/* Folds the integer x (a numeric op's value, known good): the fast path. */
int mr__acc_add_i64(mr__op op, mr__acc *a, int64_t x);
/* Folds the partial b into a (b is left as it was). */
int mr__acc_merge(mr__op op, mr__acc *a, const mr__acc *b);

/* Appends a's packed bytes to out; mr__acc_unpack reads them back (into a
 * zeroed acc) from p, n bytes: 0, or MR_EINVAL for bytes that are not a
 * packed partial. */
int mr__acc_pack(mr__op op, const mr__acc *a, mr_buf *out);
int mr__acc_unpack(mr__op op, mr__acc *a, const char *p, size_t n);

/* Appends the result: sum (0 when empty), count, min, max and mean
 * (nothing when empty), first (the first value in input order), concat
 * (the values in input order, separated by commas). With bool_count, a
 * count of values all `true` or `false` counts the true ones. */
int mr__acc_format(mr__op op, const mr__acc *a, int bool_count, mr_buf *out);

/* Appends KEY<TAB>VALUE\n for each of a concat partial's values, in
 * input order (what a reducer command reads): 0 or MR_ENOMEM. */
int mr__acc_format_lines(const mr__acc *a, const char *key, size_t klen, mr_buf *out);

#endif
