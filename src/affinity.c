/* affinity.c: a rank's CPU binding against its threads. */
#include "affinity.h"

#include <sched.h>
#include <sys/resource.h>

int affinity_cores(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set)) return 0;
  return CPU_COUNT(&set);
}

static double seconds(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec * 1e-6; }

double affinity_cpu_seconds(void) {
  struct rusage self, kids;
  if (getrusage(RUSAGE_SELF, &self) || getrusage(RUSAGE_CHILDREN, &kids)) return 0;
  return seconds(self.ru_utime) + seconds(self.ru_stime) + seconds(kids.ru_utime) +
         seconds(kids.ru_stime);
}

int affinity_starved(int busy_threads, int cores, long online, int node_ranks,
                     double cpu_s, double wall_s) {
  if (cores < 1 || busy_threads <= cores) return 0;
  if ((long)node_ranks * cores >= online) return 0; /* every core has a rank */
  return cpu_s >= 0.8 * cores * wall_s;
}
