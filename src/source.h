/* source.h: the CLI's source of items: the input's lines, numbered, minus
 * the ones an earlier run finished (a resume), which are checked against
 * what that run recorded of them. */
#ifndef MR_SOURCE_H
#define MR_SOURCE_H

#include "doneset.h"
#include "farm.h"
#include "input.h"

/* How a finished item is checked: its text (journal) or its command
 * (joblog), whose hash was recorded. */
typedef void (*mr__check_text_fn)(void *ctx, const char *item, size_t len,
                                  uint64_t seq, mr_buf *out);

typedef struct mr__src {
  mr__input *in;
  mr__doneset *done;      /* or NULL: nothing to skip */
  int rerun_failed;       /* --resume-failed */
  mr__check_text_fn check_text; /* NULL: the item's own text */
  void *check_ctx;
  uint64_t seq;           /* items seen, skipped ones included */
  uint64_t yielded;
  uint64_t skipped;
  mr_buf why;             /* the reason of a failure */
  mr_buf scratch;
} mr__src;

mr__source src_source(mr__src *s);
void src_free(mr__src *s);

/* Reads the whole input once, checking every recorded item, without
 * yielding anything: a resume refuses a changed input before it starts.
 * 0, MR_EINVAL / MR_EIO with s->why filled, or MR_EINTR (stopped). */
int src_verify(mr__src *s);

#endif
