/* textsink.h: the CLI's sink: output lines to the output, one
 * "FILE:LINE: error: MESSAGE" line per failed item to the error stream. */
#ifndef MR_TEXTSINK_H
#define MR_TEXTSINK_H

#include <stdint.h>
#include <stdio.h>

#include "farm.h"
#include "output.h"

typedef struct mr__textsink {
  mr__output *out;
  FILE *errs;             /* where item errors go (stderr) */
  const char *input_name; /* FILE in the messages */
  size_t max_line;        /* for the "line too long" message */
  uint64_t ok;
  uint64_t failed;
} mr__textsink;

mr__sink textsink_sink(mr__textsink *ts);

/* Writes one item's error line. */
void textsink_report(mr__textsink *ts, uint64_t line, int status,
                     const char *msg, size_t len);

#endif
