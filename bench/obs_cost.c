/* obs_cost.c: what seeing a run costs the master, per chunk, measured on
 * its own: the observer (src/obs) is fed the events a run of CHUNKS chunks
 * on RANKS ranks gives it (per chunk: the master's read span, the chunk
 * coming back, the write span, a tick), spread over RUN_S seconds of the
 * run's clock as in a real run, and the CPU time it takes (the process's,
 * the status writer's thread included) is divided by the chunks, with the
 * six clock reads a chunk the farm makes for an observer (farm.c: the send,
 * the read span's two ends, the answer, the write span's two ends). Unlike a
 * run's wall time at -np 8 on 2 cores, this does not move with the load of
 * the machine: it bounds what the options can cost a run whose master is
 * its bottleneck (cost <= ns per chunk x chunks / the run's seconds).
 *
 *   obs_cost DIR [CHUNKS [RANKS [RUN_S]]]   (files go in DIR)
 *
 * Prints "name<TAB>ns per chunk<TAB>ms at the end" for: none (the events
 * built and dropped), looks (--progress to a log, --stats, --status),
 * pictures (--trace, --timeline); the best of 5 repetitions each. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/idle.h"
#include "obs/obs.h"

#define REPS 5

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t done_items;
static void counts(void *ctx, mr__obs_counts *c) {
  (void)ctx;
  c->done = c->read = done_items;
  c->total = 10000000;
}
static void print(void *ctx, const char *text, size_t len) {
  (void)ctx;
  (void)text;
  (void)len; /* a log line: its write is not the observer's cost */
}
static void drop(void *ctx, const mr__farm_event *e) {
  (void)ctx;
  (void)e;
}

/* One run: ns per chunk during it, and ms for the end (files written). */
static int one(const char *what, const char *dir, uint64_t chunks, int ranks, double run_s,
               double *per_chunk_ns, double *end_ms) {
  char status[512], trace[512], svg[512];
  snprintf(status, sizeof status, "%s/obs_cost.status", dir);
  snprintf(trace, sizeof trace, "%s/obs_cost.trace.json", dir);
  snprintf(svg, sizeof svg, "%s/obs_cost.svg", dir);
  mr__obs_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.counts = counts;
  cfg.print = print;
  cfg.sized = 1;
  if (!strcmp(what, "looks")) {
    cfg.progress = 1;
    cfg.status = status;
  } else if (!strcmp(what, "pictures")) {
    cfg.trace = trace;
    cfg.timeline = svg;
  }
  mr__obs o;
  mr_buf why = {0};
  int none = !strcmp(what, "none");
  if (!none && mr__obs_open(&o, &cfg, &why)) {
    fprintf(stderr, "obs_cost: %s\n", why.data);
    return 1;
  }
  void (*ev)(void *, const mr__farm_event *) = none ? drop : mr__obs_event;
  mr__farm_event e = {0};
  e.kind = MR__EV_START;
  e.ranks = ranks;
  e.threads = 1;
  e.master_computes = 1;
  e.wall_ns = 1700000000000000000ull;
  ev(&o, &e);
  uint64_t step = (uint64_t)(run_s * 1e9 / (double)chunks), items = 10000000 / chunks;
  double c0 = cpu_now();
  volatile uint64_t clocks = 0;
  for (uint64_t i = 0; i < chunks; i++) {
    uint64_t t = i * step;
    if (!none)
      for (int k = 0; k < 6; k++) clocks += mr__now_ns();
    int rank = (int)(i % (uint64_t)ranks);
    memset(&e, 0, sizeof e);
    e.kind = MR__EV_READ;
    e.chunk = i;
    e.items = (uint32_t)items;
    e.t0 = t;
    e.t1 = t + step / 20;
    ev(&o, &e);
    memset(&e, 0, sizeof e);
    e.kind = MR__EV_CHUNK;
    e.rank = rank;
    e.attempt = -1;
    e.chunk = i;
    e.items = (uint32_t)items;
    e.line = i * items + 1;
    e.last_line = (i + 1) * items;
    e.t0 = t;
    e.t1 = t + step * (uint64_t)ranks;
    e.busy_ns = step * (uint64_t)ranks * 9 / 10;
    e.start_wall_ns = 1700000000000000000ull + t + step;
    done_items += items;
    ev(&o, &e);
    memset(&e, 0, sizeof e);
    e.kind = MR__EV_WRITE;
    e.chunk = i;
    e.items = (uint32_t)items;
    e.t0 = e.t1 - step / 10;
    e.t1 = t + step * (uint64_t)ranks + step / 10;
    ev(&o, &e);
    memset(&e, 0, sizeof e);
    e.kind = MR__EV_TICK;
    e.t1 = t + step * (uint64_t)ranks + step / 5;
    ev(&o, &e);
  }
  double c1 = cpu_now();
  int rc = 0;
  if (!none) {
    memset(&e, 0, sizeof e);
    e.kind = MR__EV_END;
    e.t1 = (uint64_t)(run_s * 1e9);
    ev(&o, &e);
    mr__farm_stats st = {0};
    st.items = done_items;
    st.chunks = chunks;
    st.seconds = run_s;
    st.computing = ranks;
    mr__obs_counts c;
    memset(&c, 0, sizeof c);
    counts(NULL, &c);
    mr_buf out = {0};
    if (mr__obs_finish(&o, "finished", &st, &c)) {
      fprintf(stderr, "obs_cost: %s\n", o.why.data);
      rc = 1;
    }
    mr__obs_summary s;
    mr__obs_summarize(&o, &st, &c, &s);
    mr__obs_stats_text(&o, &s, &out); /* --stats: the text at the end */
    mr_buf_free(&out);
    mr__obs_free(&o);
  }
  double c2 = cpu_now();
  done_items = 0;
  *per_chunk_ns = (c1 - c0) / (double)chunks * 1e9;
  *end_ms = (c2 - c1) * 1e3;
  mr_buf_free(&why);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: obs_cost DIR [CHUNKS [RANKS [RUN_S]]]\n");
    return 2;
  }
  uint64_t chunks = argc > 2 ? strtoull(argv[2], NULL, 10) : 4000;
  int ranks = argc > 3 ? atoi(argv[3]) : 8;
  double run_s = argc > 4 ? atof(argv[4]) : 0.66;
  if (!chunks || ranks < 1 || !(run_s > 0)) return 2;
  const char *whats[] = {"none", "looks", "pictures"};
  for (int w = 0; w < 3; w++) {
    double best = -1, best_end = -1;
    for (int r = 0; r < REPS; r++) {
      double ns, ms;
      if (one(whats[w], argv[1], chunks, ranks, run_s, &ns, &ms)) return 1;
      if (best < 0 || ns < best) best = ns;
      if (best_end < 0 || ms < best_end) best_end = ms;
    }
    printf("%s\t%.0f\t%.2f\n", whats[w], best, best_end);
  }
  return 0;
}
