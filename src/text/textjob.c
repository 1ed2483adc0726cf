/* textjob.c: an mr_job as a farm kernel producing output lines. */
#include "text/textjob.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct tstate {
  const mr__textjob *tj;
  void *job_state;
  mr_buf fields; /* --colsep: the item's fields, joined by tabs */
} tstate;

static int tj_init(void *ctx, void **out) {
  mr__textjob *tj = ctx;
  tstate *t = calloc(1, sizeof *t);
  if (!t) return MR_ENOMEM;
  t->tj = tj;
  if (tj->job && tj->job->init) {
    int rc = tj->job->init(&t->job_state, tj->arg);
    if (rc) {
      free(t);
      return rc < 0 ? rc : MR_EJOB;
    }
  }
  *out = t;
  return 0;
}

static void tj_fini(void *ctx, void *state) {
  (void)ctx;
  tstate *t = state;
  if (t->tj->job && t->tj->job->fini) t->tj->job->fini(t->job_state);
  mr_buf_free(&t->fields);
  free(t);
}

int mr__textjob_one_line(mr_buf *out, size_t from) {
  size_t extra = 0;
  for (size_t i = from; i < out->len; i++)
    if (out->data[i] == '\n' || out->data[i] == '\r') extra++;
  if (!extra) return 0;
  if (mr_buf_reserve(out, extra)) return MR_ENOMEM;
  /* expand from the back so every byte moves once */
  char *d = out->data;
  size_t src = out->len, dst = out->len + extra;
  d[dst] = '\0';
  while (src > from) {
    char c = d[--src];
    if (c == '\n' || c == '\r') {
      d[--dst] = c == '\n' ? 'n' : 'r';
      d[--dst] = '\\';
    } else {
      d[--dst] = c;
    }
  }
  out->len += extra;
  return 0;
}

/* Did the command die of the signal that stops the run? Slurm signals
 * every process of a job step, the commands as well as the ranks, and
 * the rank's own copy may land a moment after the command's. */
static int stopped_with(const mr__textjob *tj, int sig) {
  if (!tj->stop) return 0;
  if (sig != SIGTERM && sig != SIGINT && sig != SIGUSR1) return 0;
  for (int i = 0; i < 50 && !*tj->stop; i++) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  return *tj->stop == sig;
}

/* Most results are a word or a number: a loop beats a call to memchr. */
static int has_newline(const char *p, size_t n) {
  if (n > 32) return memchr(p, '\n', n) != NULL;
  for (size_t i = 0; i < n; i++)
    if (p[i] == '\n') return 1;
  return 0;
}

static int tj_run(void *state, const char *item, size_t len, uint64_t seq,
                  mr_buf *out, mr__times *times) {
  tstate *t = state;
  const mr__textjob *tj = t->tj;
  size_t start = out->len;
  if (!tj->raw) {
    if (mr_buf_reserve(out, len + 32)) return MR_ENOMEM;
    memcpy(out->data + out->len, item, len);
    out->data[out->len + len] = '\t';
    out->len += len + 1;
  }
  size_t mark = out->len;
  int rc;
  if (tj->exec) {
    rc = mr__exec_run(tj->exec, item, len, seq, times->limit, out,
                  &times->exitval, &times->signal);
    if (rc == MR_ESIGNAL && stopped_with(tj, times->signal))
      rc = MR__DROPPED; /* in flight when the run stopped: --resume reruns it */
    if (rc == 0 && tj->raw) return 0; /* exactly what the command wrote */
    while (rc == 0 && out->len > mark && out->data[out->len - 1] == '\n')
      out->len--; /* as $(...) does */
  } else if (tj->cols) {
    t->fields.len = 0;
    if (mr__colsep_join(tj->cols, item, len, &t->fields) || mr_buf_reserve(&t->fields, 1))
      return MR_ENOMEM;
    rc = tj->job->run(t->job_state, t->fields.data, t->fields.len, out);
  } else {
    rc = tj->job->run(t->job_state, item, len, out);
  }
  if (rc == MR_ENOMEM) return rc;
  if (rc == 0) {
    /* a result is one line: the job's bytes are kept, newlines escaped */
    if (!tj->raw && has_newline(out->data + mark, out->len - mark) &&
        mr__textjob_one_line(out, mark))
      return MR_ENOMEM;
    if (out->cap - out->len < 2) return mr_buf_append(out, "\n", 1);
    out->data[out->len++] = '\n'; /* per item: no call for one byte */
    out->data[out->len] = '\0';
    return 0;
  }
  if (!tj->exec) rc = mr__job_status(rc); /* be lenient with what jobs return */
  if (rc == MR_EINTR && tj->stop && *tj->stop)
    rc = MR__DROPPED; /* cut short by the stop (mr_stopping, a killed command) */
  /* keep the message alone, on one line */
  size_t n = out->len - mark;
  memmove(out->data + start, out->data + mark, n);
  out->len = start + n;
  if (n == 0) mr_buf_puts(out, mr_strerror(rc == MR__DROPPED ? MR_EINTR : rc));
  for (size_t i = start; i < out->len; i++)
    if (out->data[i] == '\n' || out->data[i] == '\r') out->data[i] = ' ';
  return rc;
}

mr__kernel mr__textjob_kernel(mr__textjob *tj) {
  mr__kernel k = {tj, tj_init, tj_fini, tj_run, NULL};
  return k;
}
