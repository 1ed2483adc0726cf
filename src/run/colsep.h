/* colsep.h: --colsep REGEX: an item split into fields, as GNU parallel's
 * --colsep and Python's starmap take several arguments from one line. The
 * separators are the matches of an extended regular expression (an empty
 * match separates nothing). */
#ifndef MR_COLSEP_H
#define MR_COLSEP_H

#include <stddef.h>

#include "mapreduce.h"

typedef struct mr__colsep mr__colsep;

/* 0, or MR_EINVAL with why ("--colsep: ..."). */
int mr__colsep_compile(const char *regex, mr__colsep **out, mr_buf *why);
void mr__colsep_free(mr__colsep *c);
/* Field n of item (1-based; -1 the last, ...): its length, *start at it;
 * a field the item does not have is empty. */
size_t mr__colsep_field(const mr__colsep *c, const char *item, size_t len, long n,
                        const char **start);
/* Appends the fields joined by tabs (what a job gets). */
int mr__colsep_join(const mr__colsep *c, const char *item, size_t len, mr_buf *out);

#endif
