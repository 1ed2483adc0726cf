/* obs.c: the observer of a run (obs.h): the farm's events gathered per
 * rank, the progress line and the status file they feed. */
#include "obs/obs.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TTY_EVERY_NS 250000000u      /* a terminal's line is redrawn this often */
#define PROGRESS_EVERY_S 10.0        /* a line in a file or pipe */
#define STATUS_EVERY_S 2.0
#define TIMELINE_BINS 1000
#define TIMELINE_BINS_MANY 500       /* bins per lane above 16 ranks */
#define TIMELINE_BIN0_NS 100000u     /* the first bins: 0.1 ms */

/* ------------------------------------------------------------ formats */

void mr__obs_fmt_duration(double s, char *buf, size_t n) {
  if (!(s >= 0)) s = 0;
  if (s < 0.0995) snprintf(buf, n, "%.1fms", s * 1e3);
  else if (s < 0.9995) snprintf(buf, n, "%.0fms", s * 1e3);
  else if (s < 59.95) snprintf(buf, n, "%.1fs", s);
  else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
  else snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

void mr__obs_fmt_count(uint64_t v, char *buf, size_t n) {
  char digits[32];
  int len = snprintf(digits, sizeof digits, "%" PRIu64, v);
  size_t o = 0;
  for (int i = 0; i < len && o + 2 < n; i++) {
    if (i && (len - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o < n ? o : n - 1] = '\0';
}

static void fmt_rate(double r, char *buf, size_t n) {
  if (r < 9.95) snprintf(buf, n, "%.1f", r);
  else mr__obs_fmt_count((uint64_t)(r + 0.5), buf, n);
}

/* local date and time of the master's time t (ns since time 0) */
static void fmt_clock(const mr__obs *o, uint64_t t, const char *fmt, char *buf, size_t n) {
  time_t secs = (time_t)((o->wall0_ns + t) / 1000000000u);
  struct tm tm;
  localtime_r(&secs, &tm);
  strftime(buf, n, fmt, &tm);
}

double mr__obs_eta(const mr__obs_counts *c, double elapsed_s) {
  if (c->total == UINT64_MAX || c->done == 0 || elapsed_s <= 0) return -1;
  uint64_t finished = c->before + c->done;
  uint64_t left = c->total > finished ? c->total - finished : 0;
  return (double)left * elapsed_s / (double)c->done;
}

void mr__obs_progress_text(const mr__obs *o, const mr__obs_counts *c, uint64_t now,
                           const char *state, mr_buf *out) {
  char a[32], b[32], r[32], el[32], eta[32];
  int final = state != NULL;
  double elapsed = (double)now * 1e-9;
  uint64_t finished = c->before + c->done;
  mr__obs_fmt_count(finished, a, sizeof a);
  mr_buf_puts(out, "mapreduce: ");
  if (!o->cfg.tty) { /* a log: when */
    char when[40];
    fmt_clock(o, now, "%Y-%m-%d %H:%M:%S ", when, sizeof when);
    mr_buf_puts(out, when);
  }
  if (final) {
    mr_buf_printf(out, "%s: %s items", state, a);
  } else if (c->total != UINT64_MAX) {
    uint64_t total = c->total < finished ? finished : c->total;
    double pct = total ? 100.0 * (double)finished / (double)total : 100;
    if (pct > 99.9 && finished < total) pct = 99.9;
    mr__obs_fmt_count(total, b, sizeof b);
    mr_buf_printf(out, "%s of ~%s items (%.1f%%)", a, b, pct);
  } else {
    mr_buf_printf(out, "%s items", a);
  }
  fmt_rate(elapsed > 0 ? (double)c->done / elapsed : 0, r, sizeof r);
  mr__obs_fmt_duration(elapsed, el, sizeof el);
  mr__obs_fmt_count(c->failed, b, sizeof b);
  mr_buf_printf(out, ", %s items/s, %s failed, elapsed %s", r, b, el);
  double left = final ? -1 : mr__obs_eta(c, elapsed);
  if (left >= 0) {
    mr__obs_fmt_duration(left, eta, sizeof eta);
    mr_buf_printf(out, ", ETA %s", eta);
  } else if (!final && c->total == UINT64_MAX) {
    mr_buf_puts(out, o->cfg.sized ? ", total not known yet" : ", total unknown (the input is not a file)");
  }
  if (c->before) {
    mr__obs_fmt_count(c->before, b, sizeof b);
    mr_buf_printf(out, " (%s done before)", b);
  }
}

void mr__obs_status_text(const mr__obs *o, const mr__obs_counts *c, uint64_t now,
                         const char *state, mr_buf *out) {
  char a[32], b[32], t[64];
  double elapsed = (double)now * 1e-9;
  uint64_t finished = c->before + c->done;
  mr_buf_puts(out, "mapreduce status (this file is replaced whole every few seconds)\n");
  mr_buf_printf(out, "state: %s\n", state);
  fmt_clock(o, now, "%Y-%m-%d %H:%M:%S %Z", t, sizeof t);
  mr_buf_printf(out, "updated: %s\n", t);
  fmt_clock(o, 0, "%Y-%m-%d %H:%M:%S %Z", t, sizeof t);
  mr_buf_printf(out, "started: %s\n", t);
  char host[128] = "";
  gethostname(host, sizeof host - 1);
  mr_buf_printf(out, "master: pid %ld on %s\n", (long)getpid(), host);
  mr_buf_printf(out, "input: %s\n", o->cfg.input ? o->cfg.input : "standard input");
  mr__obs_fmt_count(finished, a, sizeof a);
  if (c->total != UINT64_MAX) {
    uint64_t total = c->total < finished ? finished : c->total;
    mr__obs_fmt_count(total, b, sizeof b);
    double pct = total ? 100.0 * (double)finished / (double)total : 100;
    mr_buf_printf(out, "done: %s of %s%s items (%.1f%%)\n", a, strcmp(state, "running") ? "" : "~",
                  b, pct);
  } else {
    mr_buf_printf(out, "done: %s items (total unknown: the input is not a file)\n", a);
  }
  if (c->before) {
    mr__obs_fmt_count(c->before, a, sizeof a);
    mr_buf_printf(out, "done before (resumed): %s\n", a);
  }
  mr__obs_fmt_count(c->failed, a, sizeof a);
  mr_buf_printf(out, "failed: %s\n", a);
  fmt_rate(elapsed > 0 ? (double)c->done / elapsed : 0, a, sizeof a);
  mr_buf_printf(out, "rate: %s items/s\n", a);
  mr__obs_fmt_duration(elapsed, a, sizeof a);
  mr_buf_printf(out, "elapsed: %s\n", a);
  double left = strcmp(state, "running") ? -1 : mr__obs_eta(c, elapsed);
  if (left >= 0) {
    mr__obs_fmt_duration(left, a, sizeof a);
    fmt_clock(o, now + (uint64_t)(left * 1e9), "%H:%M:%S", t, sizeof t);
    mr_buf_printf(out, "eta: %s (about %s)\n", a, t);
  } else {
    mr_buf_puts(out, "eta: -\n");
  }
  int computing = 0;
  for (int r = 0; r < o->ranks; r++) computing += o->rank[r].threads;
  mr_buf_printf(out, "ranks: %d (%d computing threads)\n", o->ranks, computing);
  for (int r = 0; r < o->ranks; r++) {
    const mr__obs_rank *k = &o->rank[r];
    mr__obs_fmt_count(k->items, a, sizeof a);
    mr_buf_printf(out, "rank %d: %s items", r, a);
    if (k->threads && elapsed > 0)
      mr_buf_printf(out, ", busy %.0f%%",
                    100.0 * (double)k->busy_ns * 1e-9 / (elapsed * k->threads));
    if (k->failed) mr_buf_printf(out, ", %" PRIu64 " failed", k->failed);
    if (!k->threads) mr_buf_puts(out, ", dispatching only");
    else if (!k->last_ns) mr_buf_puts(out, ", no result yet");
    else {
      mr__obs_fmt_duration((double)(now > k->last_ns ? now - k->last_ns : 0) * 1e-9, a, sizeof a);
      mr_buf_printf(out, ", last result %s ago", a);
    }
    mr_buf_puts(out, "\n");
  }
  mr_buf_puts(out, "end\n");
}

/* ------------------------------------------------------------ reports */

static void counts_now(const mr__obs *o, mr__obs_counts *c) {
  memset(c, 0, sizeof *c);
  c->total = UINT64_MAX;
  if (o->cfg.counts) o->cfg.counts(o->cfg.counts_ctx, c);
}

static void keep_why(mr__obs *o, mr_buf *why) {
  if (!o->why.len && why->len) mr_buf_puts(&o->why, why->data);
  mr_buf_free(why);
}

/* The status writer: writes the latest document handed to it, whole. */
static void *writer_main(void *arg) {
  mr__obs *o = arg;
  mr_buf mine = {0}, why = {0};
  pthread_mutex_lock(&o->lock);
  for (;;) {
    while (!o->doc.len && !o->writer_stop) pthread_cond_wait(&o->wake, &o->lock);
    if (!o->doc.len) break; /* stopped, nothing left */
    mr_buf t = mine;
    mine = o->doc;
    o->doc = t;
    o->doc.len = 0;
    pthread_mutex_unlock(&o->lock);
    why.len = 0;
    int bad = mr__obsfile_write(o->cfg.status, mine.data, mine.len, &why);
    pthread_mutex_lock(&o->lock);
    if (bad && !o->writer_why.len) mr_buf_puts(&o->writer_why, why.data);
    if (bad) break; /* said once at the end; not retried every 2 s */
  }
  pthread_mutex_unlock(&o->lock);
  mr_buf_free(&mine);
  mr_buf_free(&why);
  return NULL;
}

static void writer_stop(mr__obs *o) {
  if (!o->writer_on) return;
  pthread_mutex_lock(&o->lock);
  o->writer_stop = 1;
  o->doc.len = 0; /* the last document is the master's own */
  pthread_cond_signal(&o->wake);
  pthread_mutex_unlock(&o->lock);
  pthread_join(o->writer, NULL);
  o->writer_on = 0;
  if (o->writer_why.len) o->status_failed = 1;
  if (!o->why.len && o->writer_why.len) mr_buf_puts(&o->why, o->writer_why.data);
}

/* During the run: the document goes to the writer thread (or is written
 * here when there is none); at the end the caller writes it. */
static void status_write(mr__obs *o, const mr__obs_counts *c, uint64_t now, const char *state,
                         int now_here) {
  if (o->status_failed) return;
  o->line.len = 0;
  mr__obs_status_text(o, c, now, state, &o->line);
  if (o->writer_on && !now_here) {
    pthread_mutex_lock(&o->lock);
    mr_buf t = o->doc; /* the newest replaces one not yet written */
    o->doc = o->line;
    o->line = t;
    pthread_cond_signal(&o->wake);
    pthread_mutex_unlock(&o->lock);
    return;
  }
  mr_buf why = {0};
  if (mr__obsfile_write(o->cfg.status, o->line.data, o->line.len, &why)) o->status_failed = 1;
  keep_why(o, &why);
}

static void progress_print(mr__obs *o, const mr__obs_counts *c, uint64_t now,
                           const char *state) {
  int final = state != NULL;
  o->line.len = 0;
  if (o->cfg.tty) mr_buf_puts(&o->line, "\r");
  mr__obs_progress_text(o, c, now, state, &o->line);
  if (o->cfg.tty) mr_buf_puts(&o->line, final ? "\033[K\n" : "\033[K");
  else mr_buf_puts(&o->line, "\n");
  o->drawn = o->cfg.tty && !final;
  if (o->cfg.print) o->cfg.print(o->cfg.print_ctx, o->line.data, o->line.len);
}

static uint64_t every_ns(double s, double dflt) {
  return (uint64_t)((s > 0 ? s : dflt) * 1e9);
}

static void reports_due(mr__obs *o, uint64_t now) {
  int p = o->cfg.progress && now >= o->next_progress_ns;
  int s = o->cfg.status && now >= o->next_status_ns;
  if (!p && !s) return;
  mr__obs_counts c;
  counts_now(o, &c);
  if (p) {
    progress_print(o, &c, now, NULL);
    o->next_progress_ns = now + (o->cfg.tty ? TTY_EVERY_NS
                                            : every_ns(o->cfg.progress_every, PROGRESS_EVERY_S));
  }
  if (s) {
    status_write(o, &c, now, "running", 0);
    o->next_status_ns = now + every_ns(o->cfg.status_every, STATUS_EVERY_S);
  }
}

void mr__obs_clear_line(mr__obs *o) {
  if (!o->drawn || !o->cfg.print) return;
  o->cfg.print(o->cfg.print_ctx, "\r\033[K", 4);
  o->drawn = 0;
  o->next_progress_ns = 0; /* drawn again at the next event */
}

/* ------------------------------------------------------------ events */

static void slow_note(mr__obs *o, const mr__farm_event *e) {
  if (e->items <= e->unrun) return;
  int at = o->nslow < MR__OBS_SLOWEST ? o->nslow : MR__OBS_SLOWEST - 1;
  if (o->nslow == MR__OBS_SLOWEST && e->busy_ns <= o->slow[at].busy_ns) return;
  while (at > 0 && o->slow[at - 1].busy_ns < e->busy_ns) {
    o->slow[at] = o->slow[at - 1];
    at--;
  }
  o->slow[at] = (mr__obs_slow){e->busy_ns, e->line, e->last_line, e->items - e->unrun, e->rank};
  if (o->nslow < MR__OBS_SLOWEST) o->nslow++;
}

/* Where the rank computed the chunk on the master's clock: its own clock's
 * start, kept between the send and the answer (another host's clock may
 * be off by more than a chunk). */
static uint64_t chunk_start(const mr__obs *o, const mr__farm_event *e) {
  int64_t s = (int64_t)(e->start_wall_ns - o->wall0_ns);
  int64_t lo = (int64_t)e->t0, hi = (int64_t)e->t1 - (int64_t)e->busy_ns;
  if (s > hi) s = hi;
  if (s < lo) s = lo;
  return (uint64_t)s;
}

static int on_start(mr__obs *o, const mr__farm_event *e) {
  o->started = 1;
  o->ranks = e->ranks;
  o->threads = e->threads;
  o->master_computes = e->master_computes;
  o->wall0_ns = e->wall_ns;
  o->rank = calloc((size_t)e->ranks, sizeof *o->rank);
  if (!o->rank) return MR_ENOMEM;
  for (int r = 0; r < e->ranks; r++)
    o->rank[r].threads = r || e->master_computes ? e->threads : 0;
  if (o->cfg.timeline &&
      mr__timeline_init(&o->tl, e->ranks, e->ranks > 16 ? TIMELINE_BINS_MANY : TIMELINE_BINS,
                        TIMELINE_BIN0_NS))
    return MR_ENOMEM;
  if (o->trace) return mr__trace_start(o);
  return 0;
}

void mr__obs_event(void *ctx, const mr__farm_event *e) {
  mr__obs *o = ctx;
  if (e->kind == MR__EV_START) {
    if (on_start(o, e)) { /* out of memory: observe nothing more */
      o->ranks = 0;
      o->cfg.timeline = NULL;
      mr__obsfile_abort(o->trace);
      o->trace = NULL;
    }
    return;
  }
  if (!o->started || !o->rank) return;
  if (e->t1 > o->now_ns) o->now_ns = e->t1;
  switch (e->kind) {
  case MR__EV_CHUNK: {
    if (e->rank < 0 || e->rank >= o->ranks) break;
    mr__obs_rank *k = &o->rank[e->rank];
    k->items += e->items - e->unrun;
    k->failed += e->failed;
    k->busy_ns += e->busy_ns;
    k->unrun += e->unrun;
    k->last_ns = e->t1;
    if (e->attempt < 0) {
      k->chunks++;
      o->chunks++;
    } else {
      k->attempts++;
      if (e->attempt > 0) o->retries++;
      else o->handbacks++;
    }
    slow_note(o, e);
    uint64_t s = chunk_start(o, e);
    if (o->cfg.timeline) mr__timeline_add(&o->tl, e->rank, s, s + e->busy_ns, e->failed);
    if (o->trace) mr__trace_chunk(o, e, s);
    break;
  }
  case MR__EV_READ:
  case MR__EV_WRITE:
    *(e->kind == MR__EV_READ ? &o->read_ns : &o->write_ns) += e->t1 - e->t0;
    if (o->trace) mr__trace_span(o, e);
    break;
  case MR__EV_END: o->end_ns = e->t1; return;
  default: break;
  }
  reports_due(o, o->now_ns);
}

mr__farm_observer mr__obs_observer(mr__obs *o) {
  mr__farm_observer ob = {mr__obs_event, 1, o}; /* spans: the master's share */
  return ob;
}

/* ------------------------------------------------------------ life */

int mr__obs_open(mr__obs *o, const mr__obs_cfg *cfg, mr_buf *why) {
  memset(o, 0, sizeof *o);
  o->cfg = *cfg;
  pthread_mutex_init(&o->lock, NULL);
  pthread_cond_init(&o->wake, NULL);
  o->locks = 1;
  int rc = 0;
  if (cfg->status) rc = mr__obsfile_check(cfg->status, "--status", why);
  if (!rc && cfg->trace) rc = mr__obsfile_check(cfg->trace, "--trace", why);
  if (!rc && cfg->timeline) rc = mr__obsfile_check(cfg->timeline, "--timeline", why);
  if (rc) return rc;
  if (cfg->trace) {
    rc = mr__obsfile_open(cfg->trace, &o->trace, why);
    if (rc) return rc;
    mr__trace_begin(o);
  }
  if (cfg->status) { /* a first document before the run: the name is writable */
    mr__obsfile *f;
    rc = mr__obsfile_open(cfg->status, &f, why);
    if (rc) return rc;
    fputs("mapreduce status\nstate: starting\nend\n", mr__obsfile_stream(f));
    rc = mr__obsfile_commit(f, why);
    if (!rc) { /* the writer takes no signals: they are the master's */
      sigset_t all, old;
      sigfillset(&all);
      pthread_sigmask(SIG_SETMASK, &all, &old);
      o->writer_on = pthread_create(&o->writer, NULL, writer_main, o) == 0;
      pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
  }
  /* the first lines: a log's after a second, then at its interval */
  uint64_t every = every_ns(cfg->progress_every, PROGRESS_EVERY_S);
  o->next_progress_ns = cfg->tty ? 0 : every < 1000000000u ? every : 1000000000u;
  /* and the status's: the "starting" document stands for the first
   * second; rewritten at the first chunk, a short run paid for a write and
   * its thread's wake-up in the middle of its work (+4% at -np 8 on 2
   * cores, 0.15 s runs) */
  every = every_ns(cfg->status_every, STATUS_EVERY_S);
  o->next_status_ns = every < 1000000000u ? every : 1000000000u;
  return rc;
}

int mr__obs_finish(mr__obs *o, const char *state, const mr__farm_stats *st,
                   const mr__obs_counts *c) {
  uint64_t end = o->end_ns ? o->end_ns : o->now_ns;
  if (st && st->seconds > 0) end = (uint64_t)(st->seconds * 1e9);
  if (o->cfg.progress && o->started) progress_print(o, c, end, state);
  writer_stop(o);
  if (o->cfg.status && o->started && !o->status_failed) status_write(o, c, end, state, 1);
  if (o->trace) {
    mr_buf why = {0};
    mr__trace_end(o, &why);
    o->trace = NULL;
    keep_why(o, &why);
  }
  if (o->cfg.timeline && o->started && o->tl.busy) {
    mr__obs_summary s;
    mr__obs_summarize(o, st, c, &s);
    char title[256], sub[256], a[32], b[32], r[32];
    mr__obs_fmt_count(s.items, a, sizeof a);
    mr__obs_fmt_duration(s.seconds, b, sizeof b);
    fmt_rate(s.items_per_s, r, sizeof r);
    snprintf(title, sizeof title, "mapreduce: %s items in %s on %d rank%s (%s items/s)%s", a, b,
             s.ranks, s.ranks == 1 ? "" : "s", r, strcmp(state, "finished") ? ", stopped" : "");
    mr__obs_fmt_duration(s.serial_s, a, sizeof a);
    snprintf(sub, sizeof sub,
             "%d computing threads busy %.0f%% of the run; %s of computing in all: %.1fx "
             "faster than one at a time; imbalance %.0f%%; %" PRIu64 " failed",
             s.computing, 100 * s.efficiency, a, s.speedup, 100 * s.imbalance, s.failed);
    o->line.len = 0;
    mr__timeline_svg(&o->tl, o->rank, title, sub, &o->line);
    mr_buf why = {0};
    mr__obsfile_write(o->cfg.timeline, o->line.data, o->line.len, &why);
    keep_why(o, &why);
  }
  return o->why.len ? MR_EIO : 0;
}

void mr__obs_free(mr__obs *o) {
  writer_stop(o);
  if (o->locks) {
    pthread_mutex_destroy(&o->lock);
    pthread_cond_destroy(&o->wake);
    o->locks = 0;
  }
  mr_buf_free(&o->doc);
  mr_buf_free(&o->writer_why);
  mr__obsfile_abort(o->trace); /* a run that never finished: no trace */
  o->trace = NULL;
  mr_buf_free(&o->tbuf);
  mr__timeline_free(&o->tl);
  free(o->rank);
  free(o->lane_end);
  free(o->lanes_used);
  mr_buf_free(&o->line);
  mr_buf_free(&o->why);
  o->rank = NULL;
  o->lane_end = NULL;
  o->lanes_used = NULL;
}
