/* textsink.h: the CLI's sink. Per finished chunk: output lines to the
 * output, one "FILE:LINE: error: MESSAGE" line per failed item to the error
 * stream, journal records (-o FILE), joblog lines (--joblog), and the
 * --halt policy. */
#ifndef MR_TEXTSINK_H
#define MR_TEXTSINK_H

#include <stdint.h>
#include <stdio.h>

#include "farm/farm.h"
#include "text/joblog.h"
#include "text/journal.h"
#include "text/output.h"

typedef struct mr__halt {
  int when;         /* 0 never, MR__HALT_SOON or MR__HALT_NOW */
  uint64_t fail_n;  /* halt after this many failed items (0: unset) */
  double fail_pct;  /* or when this % of the finished items failed */
} mr__halt;

/* Writes an item's joblog Command (the command line, or "JOB ITEM"). */
typedef void (*mr__describe_fn)(void *ctx, const char *item, size_t len,
                                uint64_t seq, mr_buf *out);

typedef struct mr__textsink {
  mr__output *out;
  FILE *errs;             /* where item errors go (stderr) */
  const char *mr__input_name; /* FILE in the messages */
  size_t max_line;        /* for the "line too long" message */
  mr__journal *journal;   /* or NULL */
  mr__joblog *joblog;     /* or NULL */
  const char *const *hosts; /* joblog Host of each rank */
  mr__describe_fn describe;
  void *describe_ctx;
  mr__halt halt;
  uint64_t ok;
  uint64_t failed;
  uint64_t synced_ns; /* when the journal and joblog were last written */
  mr_buf failed_why; /* "cannot write 'FILE': <reason>": the journal or
                       * joblog a write failed on, the first time */
  mr_buf scratch;
} mr__textsink;

mr__sink mr__textsink_sink(mr__textsink *ts);
/* Writes what is buffered: the output first, then the journal and joblog
 * records, which never get ahead of the output they describe. A failed
 * journal or joblog write fills failed_why. */
int mr__textsink_sync(mr__textsink *ts);
void mr__textsink_free(mr__textsink *ts);

/* Writes one item's error line. */
void mr__textsink_report(mr__textsink *ts, uint64_t line, int status,
                     const char *msg, size_t len);

/* Parses a --halt value: never, soon,fail=N, now,fail=P%, ... 0 or
 * MR_EINVAL. */
int mr__textsink_parse_halt(const char *s, mr__halt *h);

#endif
