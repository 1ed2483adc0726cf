/* machine_costs.c: two costs of the machine under the benchmarks that decide
 * how oversubscribed and --isolate runs fare, printed for bench/RESULTS.md.
 *
 *   first touch: microseconds to write the first byte of each fresh 4 KiB
 *     page of a new 16 MiB block (the page fault, and on a virtual machine
 *     whose memory the host backs lazily, the host's fault too). Every
 *     buffer a rank uses for the first time pays it, page by page.
 *   pipe round trip: microseconds for one byte to go to another process and
 *     back through two pipes, both processes on the same core or not: two
 *     wake-ups and, where cores are short, two context switches. --isolate
 *     pays one per chunk.
 *
 * Prints two lines "name<TAB>value"; exits 1 if a measurement failed. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOUCH_BYTES (16u << 20)
#define PAGE 4096u
#define ROUND_TRIPS 2000

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int first_touch(void) {
  volatile char *p = malloc(TOUCH_BYTES);
  if (!p) return 1;
  double t0 = now();
  for (size_t i = 0; i < TOUCH_BYTES; i += PAGE) p[i] = 1;
  double t1 = now();
  for (size_t i = 0; i < TOUCH_BYTES; i += PAGE) p[i]++;
  double t2 = now();
  double pages = TOUCH_BYTES / PAGE;
  printf("first touch of a 4 KiB page\t%.2f us (%.3f us when touched again)\n",
         (t1 - t0) / pages * 1e6, (t2 - t1) / pages * 1e6);
  free((void *)p);
  return 0;
}

static int pipe_round_trip(void) {
  int down[2], up[2];
  if (pipe(down) || pipe(up)) return 1;
  pid_t pid = fork();
  if (pid < 0) return 1;
  char c = 0;
  if (pid == 0) {
    close(down[1]);
    close(up[0]);
    while (read(down[0], &c, 1) == 1)
      if (write(up[1], &c, 1) != 1) break;
    _exit(0);
  }
  close(down[0]);
  close(up[1]);
  double t0 = now();
  int ok = 1;
  for (int i = 0; i < ROUND_TRIPS && ok; i++)
    ok = write(down[1], &c, 1) == 1 && read(up[0], &c, 1) == 1;
  double t1 = now();
  close(down[1]);
  waitpid(pid, NULL, 0);
  if (!ok) return 1;
  printf("pipe round trip between processes\t%.1f us\n",
         (t1 - t0) / ROUND_TRIPS * 1e6);
  return 0;
}

int main(void) {
  int rc = first_touch();
  rc |= pipe_round_trip();
  return rc;
}
