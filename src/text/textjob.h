/* textjob.h: the kernel that runs an mr_job on text items and formats
 * each result as the output line "ITEM<TAB>RESULT\n" on the worker, so the
 * master only copies bytes. A failed item's output is its message alone. */
#ifndef MR_TEXTJOB_H
#define MR_TEXTJOB_H

#include <signal.h>

#include "farm/chunk.h"
#include "run/exec.h"

typedef struct mr__textjob {
  const mr_job *job;    /* the job; or NULL in exec mode */
  const mr__exec *exec; /* exec mode: the command */
  const char *arg;      /* --arg, or NULL */
  int raw;              /* the result as produced: no "ITEM\t", newlines kept */
  /* nonzero once the run was asked to stop (the signal number), or NULL */
  volatile sig_atomic_t *stop;
  const mr__colsep *cols; /* --colsep: a job gets the fields joined by tabs */
} mr__textjob;

/* A kernel over tj (which must outlive it). */
mr__kernel mr__textjob_kernel(mr__textjob *tj);

/* Makes out[from..] a single line: each '\n' becomes the two characters
 * "\n" and each '\r' "\r". */
int mr__textjob_one_line(mr_buf *out, size_t from);

#endif
