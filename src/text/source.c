/* source.c: input lines as items, skipping what a resumed run has. */
#include "text/source.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int src_refuse(mr__src *s, const mr__line *line, const char *what) {
  mr_buf_printf(&s->why,
                "%s:%" PRIu64 ": this is not the input the unfinished run "
                "was given (%s); refusing to resume",
                mr__input_name(s->in), line->lineno, what);
  return MR_EINVAL;
}

/* The hash of what was recorded of the line: its text (a line that is not
 * an item travels, and is recorded, empty), or its joblog command. */
static uint64_t src_hash(mr__src *s, const mr__line *line) {
  const char *text = line->bad ? "" : line->text;
  size_t len = line->bad ? 0 : line->len;
  if (!s->check_text) return mr__doneset_hash(text, len);
  s->scratch.len = 0;
  s->check_text(s->check_ctx, text, len, s->seq, &s->scratch);
  return mr__doneset_hash(s->scratch.data ? s->scratch.data : "", s->scratch.len);
}

/* 1: the item is done (skip it); 0: run it; MR_EINVAL: the input changed. */
static int src_done(mr__src *s, const mr__line *line) {
  const mr__jrec *r;
  int done = mr__doneset_skip(s->done, s->seq, s->rerun_failed, &r);
  if (!r) return done;
  /* every item of a record counts: the first one by its own hash (which
   * names the line), all of them in order by the record's chain */
  uint64_t h = src_hash(s, line);
  if (s->seq == r->seq) {
    char what[64];
    snprintf(what, sizeof what, "item %" PRIu64 " differs", s->seq + 1);
    if (h != r->h_first) return src_refuse(s, line, what);
    s->chain = 0;
    s->chain_line = line->lineno;
  }
  s->chain = mr__doneset_chain(s->chain, h);
  if (s->seq + 1 == r->end && r->end - r->seq > 1 && s->chain != r->h_all) {
    char what[96];
    snprintf(what, sizeof what, "an item on lines %" PRIu64 "-%" PRIu64 " differs",
             s->chain_line, line->lineno);
    return src_refuse(s, line, what);
  }
  return done;
}

/* At the end of the input: shorter than what the run recorded? */
static int src_end(mr__src *s) {
  uint64_t last = s->done ? mr__doneset_end(s->done) : 0;
  if (s->seq >= last) return 0;
  mr_buf_printf(&s->why, "%s: the input is shorter than the unfinished run's "
                         "(%" PRIu64 " items, it recorded %" PRIu64 "); refusing to resume",
                mr__input_name(s->in), s->seq, last);
  return MR_EINVAL;
}

/* Next line: 1, 0 at the end (checked), or an error with s->why filled. */
static int src_line(mr__src *s, mr__line *line) {
  int rc = mr__input_next(s->in, line, &s->why);
  return rc == 0 ? src_end(s) : rc;
}

static int src_next(void *ctx, mr__item *it) {
  mr__src *s = ctx;
  for (;;) {
    mr__line line;
    int rc = src_line(s, &line);
    if (rc == MR__INPUT_AGAIN) return MR__SRC_AGAIN; /* a silent pipe */
    if (rc <= 0) return rc;
    int done = s->done ? src_done(s, &line) : 0;
    if (done < 0) return done;
    uint64_t seq = s->seq++;
    if (done) {
      s->skipped++;
      continue;
    }
    if (s->finished_output) {
      mr_buf_printf(&s->why,
                    "%s:%" PRIu64 ": refusing to resume: '%s' holds a finished "
                    "run without a journal, and this item's result is not in "
                    "it (nothing can be added in order): run without --resume "
                    "to compute everything again, or give another -o FILE for "
                    "only the rest",
                    mr__input_name(s->in), line.lineno, s->finished_output);
      return MR_EINVAL;
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
  uint64_t size = mr__input_size(s->in), off = mr__input_offset(s->in);
  if (!size || !s->seq || off == 0) return UINT64_MAX;
  if (off >= size) return 0;
  double per = (double)off / (double)s->seq;
  return (uint64_t)((double)(size - off) / per);
}

mr__source mr__src_source(mr__src *s) {
  mr__source src = {src_next, src_remaining, s};
  return src;
}

int mr__src_verify(mr__src *s) {
  mr__item it;
  int rc;
  while ((rc = src_next(s, &it)) == 1)
    if (!s->finished_output && s->seq >= mr__doneset_end(s->done)) break;
  if (rc < 0) return rc;
  s->done->cursor = 0; /* for the run itself */
  s->seq = s->yielded = s->skipped = 0;
  return 0;
}

void mr__src_free(mr__src *s) {
  mr_buf_free(&s->why);
  mr_buf_free(&s->scratch);
}
