/* source.c: input lines as items, skipping what a resumed run has. */
#include "source.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* 1: the item is done (skip it); 0: run it; MR_EINVAL: the input changed. */
static int src_done(mr__src *s, const mr__line *line) {
  if (!s->done) return 0;
  uint64_t want;
  int has_check;
  int done = doneset_skip(s->done, s->seq, s->rerun_failed, &want, &has_check);
  if (has_check) {
    uint64_t got;
    if (s->check_text) {
      s->scratch.len = 0;
      s->check_text(s->check_ctx, line->text, line->len, s->seq, &s->scratch);
      got = doneset_hash(s->scratch.data ? s->scratch.data : "", s->scratch.len);
    } else {
      got = doneset_hash(line->text, line->len);
    }
    if (got != want) {
      mr_buf_printf(&s->why,
                    "%s:%" PRIu64 ": this is not the input the unfinished run "
                    "was given (item %" PRIu64 " differs); refusing to resume",
                    input_name(s->in), line->lineno, s->seq + 1);
      return MR_EINVAL;
    }
  }
  return done;
}

static int src_next(void *ctx, mr__item *it) {
  mr__src *s = ctx;
  for (;;) {
    mr__line line;
    int rc = input_next(s->in, &line);
    if (rc == MR_EIO)
      mr_buf_printf(&s->why, "cannot read '%s': %s", input_name(s->in), strerror(errno));
    if (rc <= 0) return rc;
    int done = s->done ? src_done(s, &line) : 0;
    if (done < 0) return done;
    uint64_t seq = s->seq++;
    if (done) {
      s->skipped++;
      continue;
    }
    it->text = line.text;
    it->len = line.len;
    it->seq = seq;
    it->tag = line.lineno;
    it->bad = line.bad;
    s->yielded++;
    return 1;
  }
}

static uint64_t src_remaining(void *ctx) {
  mr__src *s = ctx;
  uint64_t size = input_size(s->in), off = input_offset(s->in);
  if (!size || !s->seq || off == 0) return UINT64_MAX;
  if (off >= size) return 0;
  double per = (double)off / (double)s->seq;
  return (uint64_t)((double)(size - off) / per);
}

mr__source src_source(mr__src *s) {
  mr__source src = {src_next, src_remaining, s};
  return src;
}

int src_verify(mr__src *s) {
  if (!s->done || s->done->n == 0) return 0;
  uint64_t last = s->done->r[s->done->n - 1].end;
  for (;;) {
    if (s->seq >= last) {
      s->done->cursor = 0; /* for the run itself */
      return 0;
    }
    mr__line line;
    int rc = input_next(s->in, &line);
    if (rc == MR_EIO)
      mr_buf_printf(&s->why, "cannot read '%s': %s", input_name(s->in), strerror(errno));
    if (rc < 0) return rc; /* MR_EINTR: stopped */
    if (rc == 0) {
      mr_buf_printf(&s->why, "%s: the input is shorter than the unfinished run's "
                             "(%" PRIu64 " items, it recorded %" PRIu64 "); refusing to resume",
                    input_name(s->in), s->seq, last);
      return MR_EINVAL;
    }
    if (src_done(s, &line) < 0) return MR_EINVAL;
    s->seq++;
  }
}

void src_free(mr__src *s) {
  mr_buf_free(&s->why);
  mr_buf_free(&s->scratch);
}
