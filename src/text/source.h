/* source.h: the CLI's source of items: the input's lines, numbered, minus
 * the ones an earlier run finished (a resume), which are checked against
 * what that run recorded of them. */
#ifndef MR_SOURCE_H
#define MR_SOURCE_H

#include "text/doneset.h"
#include "farm/farm.h"
#include "text/input.h"

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
  /* The output file of a finished run that has no journal (its items are
   * known from the joblog): nothing can be added to it in order, so an
   * item to run is refused. NULL otherwise. */
  const char *finished_output;
  uint64_t seq;           /* items seen, skipped ones included */
  uint64_t yielded;
  uint64_t skipped;
  uint64_t chain;         /* mr__doneset_chain of the current record so far */
  uint64_t chain_line;    /* line of the current record's first item */
  mr_buf why;             /* the reason of a failure */
  mr_buf scratch;
} mr__src;

mr__source mr__src_source(mr__src *s);
void mr__src_free(mr__src *s);

/* The source checks as it reads (a stream is read once): every recorded
 * item, an input shorter than the records, and finished_output; a failure
 * is MR_EINVAL with s->why filled. For a file, mr__src_verify does the same
 * once before the run, yielding nothing: a resume refuses a changed input
 * before it starts. 0, MR_EINVAL / MR_EIO with s->why filled, or MR_EINTR
 * (stopped). */
int mr__src_verify(mr__src *s);

#endif
