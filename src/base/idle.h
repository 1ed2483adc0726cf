/* idle.h: how a rank waits when it has nothing to do.
 * Spinning keeps latency low while messages are about to arrive; on an
 * oversubscribed node it steals the core from the ranks that compute, so
 * after a short spin the wait turns into sleeps. Each sleep is an eighth of
 * the time already waited (between a floor and a ceiling): a rank notices
 * a message at most ~12% of its wait late, and a long wait costs ~1,000
 * wake-ups a second. */
#ifndef MR_IDLE_H
#define MR_IDLE_H

#include <stdint.h>

typedef struct mr__idle {
  uint64_t since_ns; /* when the current idle stretch began; 0 = busy */
} mr__idle;

#define MR_IDLE_SPIN_NS 50000u      /* spin this long before sleeping */
#define MR_IDLE_SLEEP_MIN_NS 20000u
#define MR_IDLE_SLEEP_MAX_NS 1000000u
#define MR_IDLE_SLEEP_SHARE 8u /* sleep = waited / this */

uint64_t mr__now_ns(void); /* CLOCK_MONOTONIC */
double mr__wall_time(void); /* seconds since the epoch */
uint64_t mr__wall_ns(void); /* nanoseconds since the epoch */

/* Call after a round that did something. */
static inline void idle_reset(mr__idle *w) { w->since_ns = 0; }

/* Call after a round that did nothing. Returns how many nanoseconds the
 * caller should sleep now (0: poll again at once). */
uint32_t mr__idle_next(mr__idle *w);

/* mr__idle_next, then the sleep itself. */
void mr__idle_wait(mr__idle *w);

#endif
