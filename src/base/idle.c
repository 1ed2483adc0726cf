/* idle.c: spin briefly, then back off into short sleeps. */
#include "base/idle.h"

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

uint64_t mr__wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t mr__idle_next(mr__idle *w) {
  uint64_t now = mr__now_ns();
  if (w->since_ns == 0) {
    w->since_ns = now;
    return 0;
  }
  uint64_t waited = now - w->since_ns;
  if (waited < MR_IDLE_SPIN_NS) return 0;
  /* proportional, not doubling: doubling sleeps as long as everything
   * waited so far, so a reply after 3 ms of waiting was seen up to 2 ms
   * late (a 25% loss on items of 5-25 ms, twice per round trip) */
  uint64_t s = waited / MR_IDLE_SLEEP_SHARE;
  if (s < MR_IDLE_SLEEP_MIN_NS) s = MR_IDLE_SLEEP_MIN_NS;
  if (s > MR_IDLE_SLEEP_MAX_NS) s = MR_IDLE_SLEEP_MAX_NS;
  return (uint32_t)s;
}

void mr__idle_wait(mr__idle *w) {
  uint32_t ns = mr__idle_next(w);
  if (!ns) return;
  struct timespec ts = {0, (long)ns};
  /* an interrupting signal ends the sleep early, which is what we want */
  nanosleep(&ts, NULL);
}
