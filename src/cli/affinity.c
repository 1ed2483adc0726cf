/* affinity.c: a rank's CPU binding against its threads. */
#include "cli/affinity.h"
#include "mapreduce.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int mr__affinity_cores(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set)) return 0;
  return CPU_COUNT(&set);
}

int mr__affinity_count_list(const char *list) {
  int n = 0;
  const char *p = list;
  while (*p && *p != '\n') {
    char *end;
    long a = strtol(p, &end, 10), b = a;
    if (end == p || a < 0) return MR_EINVAL;
    p = end;
    if (*p == '-') {
      b = strtol(p + 1, &end, 10);
      if (end == p + 1 || b < a) return MR_EINVAL;
      p = end;
    }
    n += (int)(b - a + 1);
    if (*p == ',') p++;
    else if (*p && *p != '\n') return MR_EINVAL;
  }
  return n;
}

int mr__affinity_parent_cores(void) {
  char path[64], line[4096];
  snprintf(path, sizeof path, "/proc/%ld/status", (long)getppid());
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = 0;
  static const char key[] = "Cpus_allowed_list:";
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, sizeof key - 1)) continue;
    const char *p = line + sizeof key - 1;
    while (*p == ' ' || *p == '\t') p++;
    n = mr__affinity_count_list(p);
    break;
  }
  fclose(f);
  return n > 0 ? n : 0;
}

static double seconds(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec * 1e-6; }

double mr__affinity_cpu_seconds(void) {
  struct rusage self, kids;
  if (getrusage(RUSAGE_SELF, &self) || getrusage(RUSAGE_CHILDREN, &kids)) return 0;
  return seconds(self.ru_utime) + seconds(self.ru_stime) + seconds(kids.ru_utime) +
         seconds(kids.ru_stime);
}

int mr__affinity_starved(int busy_threads, int cores, long online, int node_ranks,
                     double cpu_s, double wall_s) {
  if (cores < 1 || busy_threads <= cores) return 0;
  if ((long)node_ranks * cores >= online) return 0; /* every core has a rank */
  return cpu_s >= 0.8 * cores * wall_s;
}
