/* idle.c: spin briefly, then back off into short sleeps. */
#include "idle.h"

#include <errno.h>
#include <time.h>

uint64_t mr__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double mr__wall_time(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint32_t idle_next(mr__idle *w) {
  uint64_t now = mr__now_ns();
  if (w->since_ns == 0) {
    w->since_ns = now;
    w->sleep_ns = MR_IDLE_SLEEP_MIN_NS;
    return 0;
  }
  if (now - w->since_ns < MR_IDLE_SPIN_NS) return 0;
  uint32_t s = w->sleep_ns;
  if (w->sleep_ns < MR_IDLE_SLEEP_MAX_NS) {
    w->sleep_ns *= 2;
    if (w->sleep_ns > MR_IDLE_SLEEP_MAX_NS) w->sleep_ns = MR_IDLE_SLEEP_MAX_NS;
  }
  return s;
}

void idle_wait(mr__idle *w) {
  uint32_t ns = idle_next(w);
  if (!ns) return;
  struct timespec ts = {0, (long)ns};
  /* an interrupting signal ends the sleep early, which is what we want */
  nanosleep(&ts, NULL);
}
