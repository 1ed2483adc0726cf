/* buf.c: mr_buf, the growable byte buffer results and messages live in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapreduce.h"

int mr_buf_reserve(mr_buf *b, size_t extra) {
  if (b->cap && b->cap - b->len > extra) return 0; /* room for NUL too */
  size_t need = b->len + extra + 1; /* +1: the terminating NUL */
  if (need < b->len) return MR_ENOMEM;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) return MR_ENOMEM;
    cap *= 2;
  }
  char *p = realloc(b->data, cap);
  if (!p) return MR_ENOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

int mr_buf_append(mr_buf *b, const void *p, size_t n) {
  if (mr_buf_reserve(b, n)) return MR_ENOMEM;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int mr_buf_puts(mr_buf *b, const char *s) { return mr_buf_append(b, s, strlen(s)); }

int mr_buf_vprintf(mr_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  size_t room = b->cap > b->len ? b->cap - b->len : 0;
  int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
  if (n < 0) {
    va_end(ap2);
    return MR_EINVAL;
  }
  if ((size_t)n >= room) {
    if (mr_buf_reserve(b, (size_t)n)) {
      va_end(ap2);
      return MR_ENOMEM;
    }
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
  }
  va_end(ap2);
  b->len += (size_t)n;
  return 0;
}

int mr_buf_printf(mr_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = mr_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

void mr_buf_free(mr_buf *b) {
  if (!b) return;
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
