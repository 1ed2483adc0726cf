/* sleep.c: the `sleep` job, the seeds' stand-in for I/O-bound work: sleeps
 * the item's seconds (fractions allowed) and answers with them. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "mapreduce.h"
#include "num.h"

#define SLEEP_MAX 1e7 /* seconds: about four months */

/* Strict decimal seconds: digits, one '.', an exponent; no hex, inf, nan.
 * A number outside 0..SLEEP_MAX is MR_ERANGE, so the message can say what
 * is wrong with it. */
int mr__num_parse_seconds(const char *item, size_t len, double *out) {
  if (len == 0 || len > 64 || strspn(item, "0123456789.eE+-") != len)
    return MR_EINVAL;
  char *end;
  errno = 0;
  double s = strtod(item, &end);
  if (end != item + len) return MR_EINVAL;
  if (errno == ERANGE && s < 1 && s > -1) s = 0; /* 1e-400: no time at all */
  else if (errno || !isfinite(s) || s < 0 || s > SLEEP_MAX) return MR_ERANGE;
  *out = s;
  return 0;
}

#define STOP_LOOK_NS 50000000L /* how often a long sleep looks at the stop */

int mr__num_sleep_seconds(double s) {
  /* Linux lets a sleep run 50 us long by default (timer slack), which would
   * add a fifth to every 0.25 ms item; a sleep job is about its duration */
  static _Thread_local int exact;
  if (!exact) exact = prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0) == 0 ? 1 : -1;
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  double whole = floor(s);
  until.tv_sec += (time_t)whole;
  until.tv_nsec += (long)((s - whole) * 1e9);
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  /* in steps, looking at the stop in between: the signal that sets it
   * interrupts one thread at most, and maybe not this one */
  for (;;) {
    if (mr_stopping()) return MR_EINTR;
    struct timespec step;
    clock_gettime(CLOCK_MONOTONIC, &step);
    step.tv_nsec += STOP_LOOK_NS;
    if (step.tv_nsec >= 1000000000L) {
      step.tv_sec++;
      step.tv_nsec -= 1000000000L;
    }
    int last = step.tv_sec > until.tv_sec ||
               (step.tv_sec == until.tv_sec && step.tv_nsec >= until.tv_nsec);
    const struct timespec *to = last ? &until : &step;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, to, NULL) == EINTR) {
      if (mr_stopping()) return MR_EINTR;
    }
    if (last) return 0;
  }
}

static int sleep_run(void *state, const char *item, size_t len, mr_buf *out) {
  (void)state;
  double s;
  int rc = mr__num_parse_seconds(item, len, &s);
  if (rc == MR_ERANGE)
    return mr__num_invalid(out, "seconds out of range (0 to 10000000)", item, len);
  if (rc) return mr__num_invalid(out, "not a number of seconds", item, len);
  if (mr__num_sleep_seconds(s)) return MR_EINTR; /* stopped: left for --resume */
  return mr_buf_append(out, item, len);
}

const mr_job mr__job_sleep = {MR_ABI_VERSION, "sleep",
                             "sleeps the item's seconds (fractions allowed)",
                             NULL, sleep_run, NULL};
