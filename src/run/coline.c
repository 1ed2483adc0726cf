/* coline.c: the line protocol of --worker (coline.h). */
#include "run/coline.h"

#include <stdlib.h>
#include <string.h>

int mr__coline_room(mr__coline_reader *r, size_t want) {
  if (r->off) { /* drop what was taken: lines are short, this is cheap */
    size_t rest = r->buf.len - r->off;
    if (rest) memmove(r->buf.data, r->buf.data + r->off, rest);
    r->buf.len = rest;
    r->off = 0;
  }
  return mr_buf_reserve(&r->buf, want) ? MR_ENOMEM : 0;
}

int mr__coline_take(mr__coline_reader *r, const char **line, size_t *len) {
  size_t rest = r->buf.len - r->off;
  if (!rest) return 0;
  char *s = r->buf.data + r->off;
  char *nl = memchr(s, '\n', rest);
  if (!nl) return 0;
  size_t n = (size_t)(nl - s);
  r->off += n + 1;
  if (n && s[n - 1] == '\r') n--;
  *line = s;
  *len = n;
  return 1;
}

void mr__coline_clear(mr__coline_reader *r) {
  r->buf.len = 0;
  r->off = 0;
}

void mr__coline_free(mr__coline_reader *r) {
  mr_buf_free(&r->buf);
  r->off = 0;
}

int mr__coline_is_error(const char *line, size_t len, const char **msg, size_t *mlen) {
  if (!len || line[0] != MR__COLINE_ERR) return 0;
  size_t i = 1;
  while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
  *msg = line + i;
  *mlen = len - i;
  return 1;
}

int mr__coline_result(mr_buf *out, const char *item, size_t ilen, const char *line,
                      size_t len, int raw) {
  /* a CR within the line is written "\r", as --exec writes a command's */
  size_t crs = 0;
  if (!raw && memchr(line, '\r', len))
    for (size_t i = 0; i < len; i++) crs += line[i] == '\r';
  if (crs) {
    size_t need = ilen + 1 + len + crs + 1;
    if (mr_buf_reserve(out, need)) return MR_ENOMEM;
    char *p = out->data + out->len;
    memcpy(p, item, ilen);
    p += ilen;
    *p++ = '\t';
    for (size_t i = 0; i < len; i++) {
      if (line[i] == '\r') *p++ = '\\', *p++ = 'r';
      else *p++ = line[i];
    }
    *p++ = '\n';
    *p = '\0';
    out->len += need;
    return 0;
  }
  size_t need = (raw ? 0 : ilen + 1) + len + 1;
  if (out->cap - out->len <= need && mr_buf_reserve(out, need)) return MR_ENOMEM;
  char *p = out->data + out->len;
  if (!raw) {
    memcpy(p, item, ilen);
    p += ilen;
    *p++ = '\t';
  }
  memcpy(p, line, len);
  p += len;
  *p++ = '\n';
  *p = '\0';
  out->len += need;
  return 0;
}

void mr__coline_batch_reset(mr__coline_batch *b) {
  b->w.len = 0;
  b->n = 0;
  b->sent = 0;
  b->answered = 0;
}

int mr__coline_batch_add(mr__coline_batch *b, uint32_t idx, const char *text, size_t len) {
  if (b->n == b->cap) {
    uint32_t cap = b->cap ? 2 * b->cap : 256;
    uint32_t *item = realloc(b->item, cap * sizeof *item);
    if (!item) return MR_ENOMEM;
    b->item = item;
    size_t *end = realloc(b->end, cap * sizeof *end);
    if (!end) return MR_ENOMEM;
    b->end = end;
    b->cap = cap;
  }
  if (b->w.cap - b->w.len <= len + 1 && mr_buf_reserve(&b->w, len + 1)) return MR_ENOMEM;
  memcpy(b->w.data + b->w.len, text, len);
  b->w.len += len;
  b->w.data[b->w.len++] = '\n';
  b->item[b->n] = idx;
  b->end[b->n] = b->w.len;
  b->n++;
  return 0;
}

size_t mr__coline_batch_writable(const mr__coline_batch *b, uint32_t window) {
  size_t limit = b->w.len;
  if (window && (uint64_t)b->answered + window < b->n) limit = b->end[b->answered + window - 1];
  return limit > b->sent ? limit - b->sent : 0;
}

void mr__coline_batch_free(mr__coline_batch *b) {
  mr_buf_free(&b->w);
  free(b->item);
  free(b->end);
  memset(b, 0, sizeof *b);
}
