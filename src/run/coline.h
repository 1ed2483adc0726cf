/* coline.h: the line protocol of --worker, without processes: what goes
 * to a worker's standard input (one item per line), how its standard
 * output is cut into result lines, and what a result line means.
 *
 * The protocol: the worker reads one item per line and writes exactly one
 * line per item, in order. A line that starts with the byte 0x15 (ASCII
 * NAK, "negative acknowledge": printf '\025...') fails its item; the rest
 * of the line is the message. Anything else is the result. A trailing CR
 * is dropped (a worker that writes CRLF). */
#ifndef MR_COLINE_H
#define MR_COLINE_H

#include <stddef.h>
#include <stdint.h>

#include "mapreduce.h"

#define MR__COLINE_ERR '\x15'
#define MR__COLINE_MAX (64u << 20) /* the longest result line taken */

/* A reader of a worker's output: bytes in, whole lines out. */
typedef struct mr__coline_reader {
  mr_buf buf;
  size_t off; /* where the next line starts in buf */
} mr__coline_reader;

/* Room for at least want more bytes at buf.data + buf.len (what has been
 * taken is dropped first). 0 or MR_ENOMEM. */
int mr__coline_room(mr__coline_reader *r, size_t want);
/* The next whole line (without '\n', nor a '\r' before it): 1, or 0 when
 * none is whole yet. *line stays valid until the next mr__coline_room. */
int mr__coline_take(mr__coline_reader *r, const char **line, size_t *len);
/* Bytes received and not taken yet (a partial line, or lines to come). */
static inline size_t mr__coline_pending(const mr__coline_reader *r) {
  return r->buf.len - r->off;
}
void mr__coline_clear(mr__coline_reader *r);
void mr__coline_free(mr__coline_reader *r);

/* 1 when line fails its item (*msg, *mlen: the message, without the
 * marker and the blanks after it), else 0. */
int mr__coline_is_error(const char *line, size_t len, const char **msg, size_t *mlen);

/* Appends the output of a successful item: "ITEM\tLINE\n" (a CR in LINE
 * written as the two characters "\r", as --exec does), or "LINE\n" as it
 * is when raw. 0 or MR_ENOMEM. */
int mr__coline_result(mr_buf *out, const char *item, size_t ilen, const char *line,
                      size_t len, int raw);

/* The items still to send of a batch: lines[] (item index per line) and
 * the bytes, one line each, in *w; ends[k] is where line k ends in *w. */
typedef struct mr__coline_batch {
  mr_buf w;
  uint32_t *item; /* item index of each line */
  size_t *end;    /* byte offset in w after each line */
  uint32_t n, cap;
  size_t sent;    /* bytes of w written to the worker */
  uint32_t answered; /* lines answered */
} mr__coline_batch;

/* Starts a batch (keeps the storage). */
void mr__coline_batch_reset(mr__coline_batch *b);
/* Adds item idx's text. 0 or MR_ENOMEM. */
int mr__coline_batch_add(mr__coline_batch *b, uint32_t idx, const char *text, size_t len);
/* How many bytes may be written now when at most window lines may wait
 * for their answer (0: no limit). */
size_t mr__coline_batch_writable(const mr__coline_batch *b, uint32_t window);
void mr__coline_batch_free(mr__coline_batch *b);

#endif
