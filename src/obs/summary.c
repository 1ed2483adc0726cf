/* summary.c: what --stats says at the end: for people, a few lines that
 * explain the run (time, rate, the computing it took in all and the time
 * the ranks saved, who was busy, the slowest items, the master's share);
 * for scripts, the same figures as JSON (--stats-json) or as the one
 * key=value line of earlier versions (--stats=line). */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "obs/obs.h"

#define MANY_RANKS 8 /* above: the busiest, the least busy and the median */

void mr__obs_summarize(const mr__obs *o, const mr__farm_stats *st, const mr__obs_counts *c,
                       mr__obs_summary *s) {
  memset(s, 0, sizeof *s);
  s->setup_s = st->setup_s;
  s->seconds = st->seconds;
  s->wall_s = st->setup_s + st->seconds;
  s->items = st->items;
  s->failed = c->failed;
  s->ok = c->done > c->failed ? c->done - c->failed : 0;
  s->before = c->before;
  s->chunks = st->chunks;
  s->retried = st->retried;
  s->given_back = st->given_back;
  s->lost = st->lost;
  s->ranks = o->ranks ? o->ranks : 1;
  s->computing = st->computing;
  s->items_per_s = st->seconds > 0 ? (double)st->items / st->seconds : 0;
  s->serial_s = (double)st->busy_ns * 1e-9;
  s->saved_s = s->serial_s - s->seconds;
  s->speedup = st->seconds > 0 ? s->serial_s / st->seconds : 0;
  s->efficiency = st->computing ? s->speedup / st->computing : 0;
  if (st->seconds > 0) {
    s->read_pct = 100.0 * (double)o->read_ns * 1e-9 / st->seconds;
    s->write_pct = 100.0 * (double)o->write_ns * 1e-9 / st->seconds;
  }
  /* imbalance: the busiest computing thread against the mean, per rank */
  double sum = 0, most = 0;
  int n = 0;
  for (int r = 0; r < o->ranks; r++) {
    if (!o->rank[r].threads) continue;
    double b = (double)o->rank[r].busy_ns / o->rank[r].threads;
    sum += b;
    n++;
    if (b > most) most = b;
  }
  s->imbalance = n && sum > 0 ? most / (sum / n) - 1 : 0;
}

static double rank_busy(const mr__obs_rank *k, double seconds) {
  return k->threads && seconds > 0 ? (double)k->busy_ns * 1e-9 / (seconds * k->threads) : 0;
}

static void ranks_text(const mr__obs *o, const mr__obs_summary *s, mr_buf *out) {
  char a[32];
  int computing = 0;
  for (int r = 0; r < o->ranks; r++) computing += o->rank[r].threads > 0;
  if (computing == 0) return;
  mr_buf_puts(out, "mapreduce: busy (items): ");
  if (o->ranks <= MANY_RANKS) {
    const char *sep = "";
    for (int r = 0; r < o->ranks; r++) {
      const mr__obs_rank *k = &o->rank[r];
      if (!k->threads) {
        mr_buf_printf(out, "%srank 0 dispatching only", sep);
      } else {
        mr__obs_fmt_count(k->items, a, sizeof a);
        mr_buf_printf(out, "%srank %d %.0f%% (%s)", sep, r, 100 * rank_busy(k, s->seconds), a);
      }
      sep = ", ";
    }
  } else { /* the least and most busy, and the median */
    int lo = -1, hi = -1;
    double busy[1024];
    int nb = 0;
    for (int r = 0; r < o->ranks; r++) {
      if (!o->rank[r].threads) continue;
      double b = rank_busy(&o->rank[r], s->seconds);
      if (lo < 0 || b < rank_busy(&o->rank[lo], s->seconds)) lo = r;
      if (hi < 0 || b > rank_busy(&o->rank[hi], s->seconds)) hi = r;
      if (nb < 1024) busy[nb++] = b;
    }
    for (int i = 1; i < nb; i++) /* insertion sort: a few hundred at most */
      for (int j = i; j > 0 && busy[j - 1] > busy[j]; j--) {
        double t = busy[j];
        busy[j] = busy[j - 1];
        busy[j - 1] = t;
      }
    mr__obs_fmt_count(o->rank[lo].items, a, sizeof a);
    mr_buf_printf(out, "least rank %d %.0f%% (%s)", lo, 100 * rank_busy(&o->rank[lo], s->seconds), a);
    mr_buf_printf(out, ", median %.0f%%", 100 * busy[nb / 2]);
    mr__obs_fmt_count(o->rank[hi].items, a, sizeof a);
    mr_buf_printf(out, ", most rank %d %.0f%% (%s)", hi, 100 * rank_busy(&o->rank[hi], s->seconds), a);
  }
  mr_buf_printf(out, "; imbalance %.0f%% (the busiest rank against the average)\n",
                100 * s->imbalance);
}

static void slow_where(const mr__obs_slow *w, mr_buf *out) {
  if (w->line == w->last_line) mr_buf_printf(out, "line %" PRIu64, w->line);
  else mr_buf_printf(out, "lines %" PRIu64 "-%" PRIu64, w->line, w->last_line);
}

void mr__obs_stats_text(const mr__obs *o, const mr__obs_summary *s, mr_buf *out) {
  char a[32], b[32], c[32], d[32];
  mr__obs_fmt_count(s->items, a, sizeof a);
  mr__obs_fmt_duration(s->seconds, b, sizeof b);
  mr__obs_fmt_count((uint64_t)(s->items_per_s + 0.5), c, sizeof c);
  mr__obs_fmt_count(s->failed, d, sizeof d);
  mr_buf_printf(out, "mapreduce: %s item%s in %s (%s items/s), %s failed; %d rank%s, %d "
                     "computing thread%s; start-up %.2fs",
                a, s->items == 1 ? "" : "s", b, c, d, s->ranks, s->ranks == 1 ? "" : "s", s->computing,
                s->computing == 1 ? "" : "s", s->setup_s);
  if (s->before) {
    mr__obs_fmt_count(s->before, a, sizeof a);
    mr_buf_printf(out, "; %s done before (resumed)", a);
  }
  mr_buf_puts(out, "\n");
  mr__obs_fmt_duration(s->serial_s, a, sizeof a);
  mr__obs_fmt_duration(s->saved_s > 0 ? s->saved_s : 0, b, sizeof b);
  if (s->computing <= 1)
    mr_buf_printf(out, "mapreduce: computing took %s, the computing thread busy %.0f%% of the "
                       "run; one thread computed (mpirun -np N or -t N compute side by "
                       "side)\n",
                  a, 100 * s->efficiency);
  else if (s->speedup >= 1)
    mr_buf_printf(out, "mapreduce: computing took %s in all (one item after another); in "
                       "parallel %.1fx faster, %s saved; the computing threads were busy %.0f%% "
                       "of the run\n",
                  a, s->speedup, b, 100 * s->efficiency);
  else
    mr_buf_printf(out, "mapreduce: computing took %s in all (one item after another); in "
                       "parallel no faster (%.1fx): too little work to share; the computing "
                       "threads were busy %.0f%% of the run\n",
                  a, s->speedup, 100 * s->efficiency);
  if (o->ranks > 1) ranks_text(o, s, out);
  if (o->nslow && s->items > 1) {
    mr_buf_puts(out, "mapreduce: slowest: ");
    for (int i = 0; i < o->nslow; i++) {
      const mr__obs_slow *w = &o->slow[i];
      mr__obs_fmt_duration((double)w->busy_ns * 1e-9, a, sizeof a);
      if (i) mr_buf_puts(out, ", ");
      slow_where(w, out);
      if (w->items > 1) mr_buf_printf(out, " %s (%" PRIu32 " items, rank %d)", a, w->items, w->rank);
      else mr_buf_printf(out, " %s (rank %d)", a, w->rank);
    }
    mr_buf_puts(out, "\n");
  }
  mr__obs_fmt_count(s->chunks, a, sizeof a);
  mr_buf_printf(out, "mapreduce: the master read the input %.0f%% and wrote results %.0f%% of "
                     "the time; %s chunks, %" PRIu64 " retried, %" PRIu64 " handed back, %" PRIu64
                     " lost%s%s\n",
                s->read_pct, s->write_pct, a, s->retried, s->given_back, s->lost,
                s->stdout_way ? "; stdout " : "", s->stdout_way ? s->stdout_way : "");
  /* one hint, when the figures point at a cause */
  if (s->seconds < 0.05 || s->computing < 2) return;
  if (s->efficiency < 0.6 && s->read_pct + s->write_pct > 50)
    mr_buf_puts(out, "mapreduce: note: the master spent most of the run reading and writing: "
                     "the items are too quick for this many ranks (fewer ranks, or more work an "
                     "item)\n");
  else if (s->imbalance > 0.25)
    mr_buf_puts(out, "mapreduce: note: the ranks were unevenly busy: slow items held some "
                     "(see slowest; -c 1 spreads them one by one)\n");
  else if (s->efficiency < 0.6)
    mr_buf_puts(out, "mapreduce: note: the computing threads were often idle: more ranks than "
                     "cores, or items waiting for the master (--timeline shows when)\n");
}

void mr__obs_stats_json(const mr__obs *o, const mr__obs_summary *s, mr_buf *out) {
  mr_buf_printf(out,
                "{\n  \"wall_s\": %.6f,\n  \"setup_s\": %.6f,\n  \"seconds\": %.6f,\n"
                "  \"items\": %" PRIu64 ",\n  \"ok\": %" PRIu64 ",\n  \"failed\": %" PRIu64 ",\n"
                "  \"done_before\": %" PRIu64 ",\n  \"items_per_s\": %.3f,\n"
                "  \"ranks\": %d,\n  \"computing\": %d,\n  \"serial_s\": %.6f,\n"
                "  \"saved_s\": %.6f,\n  \"speedup\": %.4f,\n  \"efficiency\": %.4f,\n"
                "  \"imbalance\": %.4f,\n  \"master_read_s\": %.6f,\n  \"master_write_s\": %.6f,\n"
                "  \"chunks\": %" PRIu64 ",\n  \"retried\": %" PRIu64 ",\n"
                "  \"given_back\": %" PRIu64 ",\n  \"lost\": %" PRIu64 ",\n"
                "  \"stdout\": \"%s\",\n  \"per_rank\": [",
                s->wall_s, s->setup_s, s->seconds, s->items, s->ok, s->failed, s->before,
                s->items_per_s, s->ranks, s->computing, s->serial_s, s->saved_s, s->speedup,
                s->efficiency, s->imbalance, (double)o->read_ns * 1e-9,
                (double)o->write_ns * 1e-9, s->chunks, s->retried, s->given_back, s->lost,
                s->stdout_way ? s->stdout_way : "own");
  for (int r = 0; r < o->ranks; r++) {
    const mr__obs_rank *k = &o->rank[r];
    mr_buf_printf(out,
                  "%s\n    {\"rank\": %d, \"threads\": %d, \"items\": %" PRIu64
                  ", \"failed\": %" PRIu64 ", \"chunks\": %" PRIu64 ", \"busy_s\": %.6f"
                  ", \"busy\": %.4f}",
                  r ? "," : "", r, k->threads, k->items, k->failed, k->chunks,
                  (double)k->busy_ns * 1e-9, rank_busy(k, s->seconds));
  }
  mr_buf_puts(out, o->ranks ? "\n  ],\n  \"slowest\": [" : "],\n  \"slowest\": [");
  for (int i = 0; i < o->nslow; i++) {
    const mr__obs_slow *w = &o->slow[i];
    mr_buf_printf(out,
                  "%s\n    {\"first_line\": %" PRIu64 ", \"last_line\": %" PRIu64
                  ", \"items\": %" PRIu32 ", \"seconds\": %.6f, \"rank\": %d}",
                  i ? "," : "", w->line, w->last_line, w->items, (double)w->busy_ns * 1e-9,
                  w->rank);
  }
  mr_buf_puts(out, o->nslow ? "\n  ]\n}\n" : "]\n}\n");
}

void mr__obs_stats_line(const mr__obs_summary *s, mr_buf *out) {
  mr_buf_printf(out,
                "mapreduce: stats: items=%" PRIu64 " ok=%" PRIu64 " failed=%" PRIu64
                " chunks=%" PRIu64 " setup_s=%.6f seconds=%.6f items_per_s=%.0f ranks=%d"
                " computing=%d busy_s=%.3f efficiency=%.3f retried=%" PRIu64
                " given_back=%" PRIu64 " lost=%" PRIu64 " stdout=%s\n",
                s->items, s->ok, s->failed, s->chunks, s->setup_s, s->seconds, s->items_per_s,
                s->ranks, s->computing, s->serial_s, s->efficiency, s->retried, s->given_back,
                s->lost, s->stdout_way ? s->stdout_way : "own");
}
