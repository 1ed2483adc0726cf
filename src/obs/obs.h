/* obs.h: seeing a run: what the farm's observer hears (farm.h), gathered
 * per rank in bounded memory, and what is made of it: the progress line,
 * the status file, the summary of --stats (text and JSON), the trace
 * (--trace, Chrome/Perfetto's trace-event JSON) and the timeline picture
 * (--timeline, SVG). Nothing here is per item: a chunk at most.
 *
 * Time is the master's: ns since the run began (mr__farm_event). The files
 * are written beside their final name and renamed into place (obsfile),
 * so a reader sees a whole document or the one before, never a part. */
#ifndef MR_OBS_H
#define MR_OBS_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "farm/farm.h"
#include "mapreduce.h"

/* What the caller knows of the items (from the source and the sink). */
typedef struct mr__obs_counts {
  uint64_t done;   /* items finished in this run, failed ones included */
  uint64_t failed; /* of them, failed */
  uint64_t before; /* items a resumed run found finished */
  uint64_t read;   /* items read so far, `before` included */
  uint64_t total;  /* all items, an estimate; UINT64_MAX: unknown */
} mr__obs_counts;

typedef struct mr__obs_cfg {
  int progress;         /* --progress */
  int tty;              /* its destination is a terminal: one redrawn line */
  int sized;            /* the input is a regular file: a total will come */
  double progress_every; /* seconds between lines on a file or pipe */
  const char *status;   /* --status FILE, or NULL */
  double status_every;  /* seconds between rewrites */
  const char *trace;    /* --trace FILE, or NULL */
  const char *timeline; /* --timeline FILE, or NULL */
  const char *input;    /* the input's name, for the status file */
  void (*counts)(void *ctx, mr__obs_counts *c);
  void *counts_ctx;
  /* writes progress text to its destination (cli) */
  void (*print)(void *ctx, const char *text, size_t len);
  void *print_ctx;
} mr__obs_cfg;

typedef struct mr__obs_rank {
  uint64_t items, failed, chunks, busy_ns, unrun;
  uint64_t attempts; /* retries and handed-back items' runs it computed */
  uint64_t last_ns;  /* when its last result came, 0: none yet */
  int threads;       /* computing threads (0: rank 0 only dispatches) */
} mr__obs_rank;

#define MR__OBS_SLOWEST 5
typedef struct mr__obs_slow {
  uint64_t busy_ns, line, last_line;
  uint32_t items;
  int rank;
} mr__obs_slow;

/* Busy time per rank in nbins bins of bin_ns, the bins doubling in width
 * (pairs merged) as the run grows past them: bounded for any length. */
typedef struct mr__timeline {
  int ranks, nbins;
  uint64_t bin_ns, end_ns;
  uint64_t *busy;   /* ranks * nbins */
  uint32_t *failed; /* ranks * nbins */
} mr__timeline;

typedef struct mr__obsfile mr__obsfile;

typedef struct mr__obs {
  mr__obs_cfg cfg;
  int started, ranks, threads, master_computes;
  uint64_t wall0_ns;  /* wall clock at time 0 */
  uint64_t now_ns;    /* the latest time heard */
  uint64_t end_ns;    /* the run's end (MR__EV_END) */
  mr__obs_rank *rank; /* ranks entries */
  mr__obs_slow slow[MR__OBS_SLOWEST];
  int nslow;
  uint64_t read_ns, write_ns, chunks, retries, handbacks;
  mr__timeline tl;
  /* --trace: streamed as the run goes */
  mr__obsfile *trace;
  uint64_t *lane_end; /* ranks * threads: when each thread lane is free */
  int *lanes_used;    /* per rank */
  uint64_t trace_events;
  mr_buf tbuf;        /* events not yet handed to the file (trace.c) */
  /* progress and status */
  uint64_t next_progress_ns, next_status_ns;
  int drawn;          /* a progress line is on the terminal */
  int status_failed;  /* a rewrite failed once: said, not retried */
  /* the status file is written by a thread of its own: a create and a
   * rename can wait milliseconds on a busy disk, and the master must not */
  pthread_t writer;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int locks, writer_on, writer_stop;
  mr_buf doc;         /* the next document to write (under lock) */
  mr_buf writer_why;  /* the writer's first failure (under lock) */
  mr_buf line;
  mr_buf why;         /* the first failure to write a file */
} mr__obs;

/* The farm's observer of o (spans: READ and WRITE events, for --trace). */
mr__farm_observer mr__obs_observer(mr__obs *o);

/* Checks the names and opens what streams (the trace); 0 or a negative
 * mr_error with why. o is zeroed first; free it in either case. */
int mr__obs_open(mr__obs *o, const mr__obs_cfg *cfg, mr_buf *why);
/* The farm's event (the observer's callback). */
void mr__obs_event(void *ctx, const mr__farm_event *e);
/* The end: the last progress line and status (state: "finished",
 * "stopped", "failed"), the trace closed and the timeline written (figures
 * from st and c). 0, or the first failure to write a file with o->why. */
int mr__obs_finish(mr__obs *o, const char *state, const mr__farm_stats *st,
                   const mr__obs_counts *c);
/* Clears a progress line drawn on the terminal (before other text). */
void mr__obs_clear_line(mr__obs *o);
void mr__obs_free(mr__obs *o);

/* ---- the trace (trace.c; obs.c drives it) */
void mr__trace_begin(mr__obs *o);               /* the document's head */
int mr__trace_start(mr__obs *o);                /* the ranks are known */
void mr__trace_chunk(mr__obs *o, const mr__farm_event *e, uint64_t start);
void mr__trace_span(mr__obs *o, const mr__farm_event *e); /* READ, WRITE */
int mr__trace_end(mr__obs *o, mr_buf *why);     /* closes and renames it */

/* ---- the summary of --stats */
typedef struct mr__obs_summary {
  double wall_s, setup_s, seconds, items_per_s;
  double serial_s, saved_s, speedup, efficiency, imbalance;
  double read_pct, write_pct;
  uint64_t items, ok, failed, before, chunks, retried, given_back, lost;
  int ranks, computing;
  /* where standard output went: "direct" (rank 0 wrote where mpirun's
   * own output goes), "forwarded" (mpirun's copying), "own" (no
   * launcher); set by the caller, NULL: not said */
  const char *stdout_way;
} mr__obs_summary;

void mr__obs_summarize(const mr__obs *o, const mr__farm_stats *st, const mr__obs_counts *c,
                       mr__obs_summary *s);
/* A few lines for people, each "mapreduce: ...\n". */
void mr__obs_stats_text(const mr__obs *o, const mr__obs_summary *s, mr_buf *out);
/* One JSON document (README: "--stats-json"). */
void mr__obs_stats_json(const mr__obs *o, const mr__obs_summary *s, mr_buf *out);
/* The one line of key=value that --stats printed before (--stats=line). */
void mr__obs_stats_line(const mr__obs_summary *s, mr_buf *out);

/* ---- formatting and aggregation, exposed for the unit tests */
/* 0.4s, 59.9s, 1m05s, 2h03m */
void mr__obs_fmt_duration(double s, char *buf, size_t n);
/* 1,234,567 */
void mr__obs_fmt_count(uint64_t v, char *buf, size_t n);
/* The progress text at time now (ns) without its line ending; state:
 * NULL while running, else how it ended ("finished", "stopped" ...). */
void mr__obs_progress_text(const mr__obs *o, const mr__obs_counts *c, uint64_t now,
                           const char *state, mr_buf *out);
/* The whole status document at time now. */
void mr__obs_status_text(const mr__obs *o, const mr__obs_counts *c, uint64_t now,
                         const char *state, mr_buf *out);
/* Seconds left, from the rate so far; < 0 when unknown. */
double mr__obs_eta(const mr__obs_counts *c, double elapsed_s);

int mr__timeline_init(mr__timeline *t, int ranks, int nbins, uint64_t bin_ns);
void mr__timeline_add(mr__timeline *t, int rank, uint64_t t0, uint64_t t1, uint32_t failed);
void mr__timeline_free(mr__timeline *t);
/* The SVG picture; title and subtitle are its headline. */
void mr__timeline_svg(const mr__timeline *t, const mr__obs_rank *ranks, const char *title,
                      const char *subtitle, mr_buf *out);

/* ---- files replaced whole: written beside their name, then renamed */
/* Refuses a name that is a symlink or not a regular file (opt names the
 * option in why). 0 or MR_EINVAL. */
int mr__obsfile_check(const char *path, const char *opt, mr_buf *why);
/* A temporary file in path's directory, created exclusively, never
 * through a symlink, in *out; 0, or a negative code with why. */
int mr__obsfile_open(const char *path, mr__obsfile **out, mr_buf *why);
FILE *mr__obsfile_stream(mr__obsfile *f);
/* Flushes, closes and renames it into place (0), or removes it and says
 * why (a negative code). Frees f either way. */
int mr__obsfile_commit(mr__obsfile *f, mr_buf *why);
void mr__obsfile_abort(mr__obsfile *f);
/* The whole of data as path, atomically. */
int mr__obsfile_write(const char *path, const char *data, size_t len, mr_buf *why);

#endif
