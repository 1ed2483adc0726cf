/* colsep.c: fields of an item (colsep.h). */
#include "run/colsep.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

struct mr__colsep {
  regex_t re;
};

int mr__colsep_compile(const char *regex, mr__colsep **out, mr_buf *why) {
  *out = NULL;
  mr__colsep *c = calloc(1, sizeof *c);
  if (!c) return MR_ENOMEM;
  int rc = regcomp(&c->re, regex, REG_EXTENDED);
  if (rc) {
    char msg[128];
    regerror(rc, &c->re, msg, sizeof msg);
    mr_buf_printf(why, "--colsep: '%s' is not a regular expression: %s", regex, msg);
    free(c);
    return MR_EINVAL;
  }
  *out = c;
  return 0;
}

void mr__colsep_free(mr__colsep *c) {
  if (!c) return;
  regfree(&c->re);
  free(c);
}

/* The next separator at or after *at: 1 and its bounds, else 0. */
static int next_sep(const mr__colsep *c, const char *item, size_t len, size_t at,
                    size_t *s, size_t *e) {
  while (at <= len) {
    regmatch_t m[1];
    m[0].rm_so = (regoff_t)at;
    m[0].rm_eo = (regoff_t)len;
    if (regexec(&c->re, item, 1, m, REG_STARTEND | (at ? REG_NOTBOL : 0)) != 0) return 0;
    if (m[0].rm_eo > m[0].rm_so) {
      *s = (size_t)m[0].rm_so;
      *e = (size_t)m[0].rm_eo;
      return 1;
    }
    at = (size_t)m[0].rm_so + 1; /* an empty match: look past it */
  }
  return 0;
}

static size_t count_fields(const mr__colsep *c, const char *item, size_t len) {
  size_t n = 1, at = 0, s, e;
  while (next_sep(c, item, len, at, &s, &e)) n++, at = e;
  return n;
}

size_t mr__colsep_field(const mr__colsep *c, const char *item, size_t len, long n,
                        const char **start) {
  *start = item + len;
  if (n < 0) {
    long total = (long)count_fields(c, item, len);
    n = total + 1 + n;
  }
  if (n < 1) return 0;
  size_t at = 0, from = 0, s, e;
  for (long k = 1;; k++) {
    int more = next_sep(c, item, len, at, &s, &e);
    if (!more) s = e = len;
    if (k == n) {
      *start = item + from;
      return s - from;
    }
    if (!more) return 0;
    from = at = e;
  }
}

int mr__colsep_join(const mr__colsep *c, const char *item, size_t len, mr_buf *out) {
  size_t at = 0, from = 0, s, e;
  for (;;) {
    int more = next_sep(c, item, len, at, &s, &e);
    if (!more) s = len;
    if (mr_buf_append(out, item + from, s - from)) return MR_ENOMEM;
    if (!more) return 0;
    if (mr_buf_append(out, "\t", 1)) return MR_ENOMEM;
    from = at = e;
  }
}
