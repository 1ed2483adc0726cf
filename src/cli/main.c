/* main.c: the mapreduce command. The only file that starts MPI, prints to
 * the terminal and picks the exit status; the rest is the library. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/idle.h"
#include "cli/affinity.h"
#include "cli/deadline.h"
#include "cli/heap.h"
#include "run/coproc.h"
#include "run/exec.h"
#include "farm/farm.h"
#include "run/isolate.h"
#include "run/job.h"
#include "cli/launcher.h"
#include "cli/options.h"
#include "cli/signals.h"
#include "mapreduce.h"
#include "obs/obs.h"
#include "reduce/fold.h"
#include "text/session.h"
#include "text/source.h"
#include "text/textjob.h"
#include "text/textsink.h"

#define EXIT_FATAL 255
#define EXIT_MANY 101 /* more than 100 items failed */
/* --deadline is when the run has ended: the farm stops this much before
 * it, for the items cut short to come back (50 ms for the jobs that look
 * at mr_stopping, 0.2 s for a command's SIGKILL), the last writes and
 * MPI_Finalize (mr__signals_exit_soon's 0.3 s at most) */
#define DEADLINE_END_S 0.5

/* ----------------------------------------------------------------- MPI */

/* Started by mpirun, srun or another launcher? Then MPI is used; a plain
 * ./mapreduce computes alone without starting MPI at all (no singleton
 * start-up cost, no daemons). */
static int launched_by_mpi(void) {
  static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                               "PMI_SIZE", "MR_FORCE_MPI", NULL};
  for (const char **v = vars; *v; v++)
    if (getenv(*v)) return 1;
  return 0;
}

typedef struct run {
  mr__opts o;
  MPI_Comm comm;
  int rank;
  int size;
  int mpi;
  int stdout_direct; /* rank 0 writes where mpirun's own output goes */
} run;

static void say(const run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const run *r, const char *fmt, ...) {
  if (r->rank != 0) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("mapreduce: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* Every rank's rc, combined (the most negative wins), and one line on
 * stderr when something failed: from the lowest rank that failed (rank 0's
 * reason is usually everybody's; a worker's is its host's own). */
static int agree(const run *r, int rc, const char *why) {
  int all = rc, first = rc ? r->rank : INT_MAX;
  if (r->mpi) {
    int mine = first;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, r->comm);
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, r->comm);
  }
  if (rc && first == r->rank && why && *why) {
    char host[256] = "";
    if (r->rank != 0) gethostname(host, sizeof host - 1);
    if (r->rank == 0) fprintf(stderr, "mapreduce: %s\n", why);
    else fprintf(stderr, "mapreduce: rank %d on %s: %s\n", r->rank, host, why);
  }
  return all;
}

static int finish(run *r, int status) {
  fflush(stdout);
  if (r->mpi && *mr__signals_stop_flag()) {
    /* mpirun is ending the job: it forwards SIGTERM a second after it gets
     * one and then stops answering, so MPI_Finalize would block until its
     * SIGKILL. Everything is written and journaled by now; give Finalize
     * (and mpirun's copying of our messages) 0.3 s, then leave. */
    fflush(NULL);
    mr__signals_exit_soon(status);
  }
  if (r->mpi) {
    MPI_Comm_free(&r->comm);
    MPI_Finalize();
    mr__launcher_hurry_exit(status); /* mpirun would pass it on 2 s late */
  }
  return status;
}

/* Hostnames of all ranks on rank 0, ":" for rank 0's own (as GNU parallel
 * writes the local host in its joblog). Collective. */
static char **gather_hosts(const run *r) {
  enum { H = 64 };
  char me[H] = "";
  gethostname(me, H - 1);
  char *all = r->rank == 0 ? calloc((size_t)r->size, H) : NULL;
  if (r->mpi) MPI_Gather(me, H, MPI_CHAR, all, H, MPI_CHAR, 0, r->comm);
  else if (all) memcpy(all, me, H);
  if (r->rank != 0) return NULL;
  char **hosts = calloc((size_t)r->size + 1, sizeof *hosts);
  if (!hosts || !all) {
    free(all);
    free(hosts);
    return NULL;
  }
  for (int i = 0; i < r->size; i++) {
    const char *h = all + (size_t)i * H;
    hosts[i] = strdup(strcmp(h, all) == 0 ? ":" : h);
  }
  free(all);
  return hosts;
}

static void hosts_free(char **hosts) {
  for (char **h = hosts; h && *h; h++) free(*h);
  free(hosts);
}

static int exit_status(uint64_t failed) {
  return failed == 0 ? 0 : failed > 100 ? EXIT_MANY : (int)failed;
}

static void list_jobs(void) {
  for (const mr_job *const *j = mr__builtin_jobs; *j; j++)
    printf("%-9s %s\n", (*j)->name, (*j)->summary ? (*j)->summary : "");
}

#define BINDING_NOTE_MIN_S 1.0 /* shorter runs: start-up noise */
/* One line when rank 0's CPU binding held its threads back (affinity.h).
 * Only when rank 0 computed; it stands for every rank, as the launcher
 * binds them alike. */
static void binding_note(const run *r, const mr__farm_stats *st, double cpu0) {
  int threads = r->o.threads;
  double wall = st->setup_s + st->seconds;
  if (!r->mpi || wall < BINDING_NOTE_MIN_S || st->computing != threads * r->size)
    return;
  int busy = threads + 1, cores = mr__affinity_cores(); /* + reading and writing */
  int could = mr__affinity_parent_cores(); /* what the launcher itself may use */
  if (!mr__affinity_starved(busy, cores, could, st->node_ranks,
                        mr__affinity_cpu_seconds() - cpu0, wall))
    return;
  say(r, "note: rank 0 ran %d threads on %d of the %d cores its launcher has "
      "(its CPU binding) and kept %s busy; mpirun --bind-to none (or srun "
      "--cpus-per-task=N) lets them use the others",
      busy, cores, could, cores == 1 ? "it" : "them");
}

/* ------------------------------------------------------- seeing the run */

typedef struct watch {
  mr__obs obs;
  int on;
  const mr__source *src;
  const mr__src *sc;
  const mr__textsink *ts;
} watch;

/* Whether the farm's events are needed: not for --stats=line, whose
 * figures are the farm's own (the benchmarks' baseline, at no cost). */
static int watching(const mr__opts *o) {
  return o->progress || o->stats == 1 || o->stats_json || o->status || o->trace || o->timeline;
}

static void watch_counts(void *ctx, mr__obs_counts *c) {
  const watch *w = ctx;
  c->done = w->ts->ok + w->ts->failed;
  c->failed = w->ts->failed;
  c->before = w->sc->skipped;
  c->read = w->sc->seq;
  uint64_t left = w->src->remaining ? w->src->remaining(w->src->ctx) : UINT64_MAX;
  c->total = left == UINT64_MAX ? UINT64_MAX : c->read + left;
}

static void watch_print(void *ctx, const char *text, size_t len) {
  (void)ctx;
  while (len) {
    ssize_t n = write(STDERR_FILENO, text, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return; /* progress is not worth failing the run */
    text += n;
    len -= (size_t)n;
  }
}

/* The item errors of the run, on stderr: a progress line drawn on the
 * terminal is cleared first (and drawn again after). */
static ssize_t errs_write(void *ctx, const char *buf, size_t len) {
  watch *w = ctx;
  mr__obs_clear_line(&w->obs);
  fflush(stderr);
  return (ssize_t)fwrite(buf, 1, len, stderr);
}

/* Results on the very terminal of the progress line would run through it:
 * then plain lines, as in a log. */
static int results_on_terminal(const mr__opts *o) {
  struct stat out, err;
  if (o->output && strcmp(o->output, "-") != 0) return 0;
  return isatty(STDOUT_FILENO) && fstat(STDOUT_FILENO, &out) == 0 &&
         fstat(STDERR_FILENO, &err) == 0 && out.st_rdev == err.st_rdev;
}

static int watch_open(const run *r, watch *w, const mr__session *f, mr_buf *why) {
  const mr__opts *o = &r->o;
  mr__obs_cfg c;
  memset(&c, 0, sizeof c);
  c.progress = o->progress;
  c.tty = o->progress && (r->mpi ? mr__launcher_stderr_tty() : isatty(STDERR_FILENO)) &&
          !results_on_terminal(o);
  c.sized = f->in && mr__input_size(f->in) > 0;
  c.progress_every = o->progress_every;
  c.status = o->status;
  const char *every = getenv("MAPREDUCE_STATUS_INTERVAL"); /* tests */
  c.status_every = every ? atof(every) : 0;
  c.trace = o->trace;
  c.timeline = o->timeline;
  c.input = o->input && strcmp(o->input, "-") ? o->input : NULL;
  c.counts = watch_counts;
  c.counts_ctx = w;
  c.print = watch_print;
  int rc = mr__obs_open(&w->obs, &c, why);
  if (!rc && o->stats_json) rc = mr__obsfile_check(o->stats_json, "--stats-json", why);
  w->on = 1;
  return rc;
}

static const char *run_state(int rc) {
  return rc == 0 ? "finished" : rc == MR_EINTR ? "stopped" : "failed";
}

/* The end of the run, seen: the last progress line and status, the trace
 * and the timeline, then --stats and --stats-json. */
static void watch_finish(const run *r, watch *w, int rc, const mr__farm_stats *st) {
  mr__obs_counts c;
  watch_counts(w, &c);
  if (rc == 0) c.total = c.read; /* all of it: exact; a stopped run keeps the estimate */
  if (w->on && mr__obs_finish(&w->obs, run_state(rc), st, &c)) say(r, "%s", w->obs.why.data);
  if (!r->o.stats && !r->o.stats_json) return;
  mr__obs_summary s;
  mr__obs_summarize(&w->obs, st, &c, &s);
  s.ranks = r->size;
  s.stdout_way = r->stdout_direct ? "direct" : r->mpi ? "forwarded" : "own";
  mr_buf out = {0};
  if (r->o.stats == 2) mr__obs_stats_line(&s, &out);
  else if (r->o.stats) mr__obs_stats_text(&w->obs, &s, &out);
  if (out.len) fwrite(out.data, 1, out.len, stderr);
  if (r->o.stats_json) {
    out.len = 0;
    mr__obs_stats_json(&w->obs, &s, &out);
    mr_buf why = {0};
    if (mr__obsfile_write(r->o.stats_json, out.data, out.len, &why)) say(r, "%s", why.data);
    mr_buf_free(&why);
  }
  mr_buf_free(&out);
}

/* --deadline: rank 0 resolves WHEN (auto asks the batch system, once) and
 * every rank stops at that moment, minus the end's margin, by its own
 * clock (hosts agree on the time of day, not on their monotonic clocks).
 * Sets *cut_ns (mr__now_ns's clock; 0 without a deadline); 0, or the
 * exit status after saying why (EXIT_FATAL; a stop's own when a signal
 * came first). Collective. */
static int deadline_start(const run *r, uint64_t *cut_ns, mr_buf *why) {
  *cut_ns = 0;
  if (!r->o.deadline_text) return 0;
  double at = 0;
  int rc = 0;
  if (r->rank == 0)
    rc = mr__deadline_resolve(&r->o.deadline, r->o.deadline_text, mr__wall_time(), &at, why);
  if (r->mpi) {
    double msg[2] = {rc, at};
    MPI_Bcast(msg, 2, MPI_DOUBLE, 0, r->comm);
    rc = (int)msg[0];
    at = msg[1];
  }
  if (rc && *mr__signals_stop_flag()) { /* a signal (to squeue too) came first */
    say(r, "stopped by signal %d before the run began", (int)*mr__signals_stop_flag());
    return mr__signals_stop_status();
  }
  if (rc) {
    say(r, "%s", why->data);
    return EXIT_FATAL;
  }
  if (!isfinite(at)) return 0; /* auto in a job without a time limit */
  double left = at - DEADLINE_END_S - mr__wall_time();
  uint64_t now = mr__now_ns();
  *cut_ns = left > 0 ? now + (uint64_t)(left * 1e9) : now;
  int trc = mr__signals_stop_at(*cut_ns);
  mr_buf tw = {0};
  if (trc) mr_buf_printf(&tw, "--deadline: cannot start its timer: %s", mr_strerror(trc));
  trc = agree(r, trc, tw.data); /* every rank stops at its cut, or none starts */
  mr_buf_free(&tw);
  return trc ? EXIT_FATAL : 0;
}

/* ------------------------------------------------------------ reductions */

static int output_write(void *ctx, const void *p, size_t n) {
  return mr__output_write(ctx, p, n) ? MR_EIO : 0;
}

/* After the farm, on every rank: the partials meet, and rank 0 writes the
 * reduction's line, or the keyed run's sorted lines, to out. */
static int fold_finish(const run *r, mr__fold *fold, mr__output *out, int *said) {
  MPI_Comm comm = r->mpi ? r->comm : MPI_COMM_NULL;
  if (fold->keyed) {
    int rc = mr__fold_keyed(fold, comm, output_write, out);
    /* a spill that failed: one line, from the lowest rank it failed on */
    if (rc && agree(r, fold->why.len ? fold->rc : 0, fold->why.data)) *said = 1;
    if (rc == 0 && r->o.stats && fold->spills)
      fprintf(stderr, "mapreduce: rank %d spilled %llu sorted runs to %s\n", r->rank,
              (unsigned long long)fold->spills, fold->tmpdir);
    return rc;
  }
  mr_buf line = {0};
  int rc = mr__fold_reduce(fold, comm, &line);
  if (!rc && r->rank == 0) rc = output_write(out, line.data, line.len);
  mr_buf_free(&line);
  return rc;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
  mr__heap_hugepages();
  run r;
  memset(&r, 0, sizeof r);
  r.comm = MPI_COMM_NULL;
  r.size = 1;
  mr_buf why = {0};
  int prc = mr__options_parse(argc, argv, &r.o, &why);
  mr__signals_setup();
  volatile sig_atomic_t *stop = mr__signals_stop_flag();

  if (launched_by_mpi()) {
    int provided;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) !=
        MPI_SUCCESS) {
      fprintf(stderr, "mapreduce: MPI failed to start\n");
      return EXIT_FATAL;
    }
    r.mpi = 1;
    MPI_Comm_dup(MPI_COMM_WORLD, &r.comm); /* our tags never meet others' */
    MPI_Comm_rank(r.comm, &r.rank);
    MPI_Comm_size(r.comm, &r.size);
    if (r.rank == 0) r.stdout_direct = mr__launcher_stdout_direct();
    mr__launcher_find_daemon(r.rank);
  }
  if (prc < 0) {
    say(&r, "%s (try 'mapreduce --help')", why.data);
    mr_buf_free(&why);
    return finish(&r, EXIT_FATAL);
  }
  if (r.o.action != MR__ACTION_RUN) {
    if (r.rank == 0) {
      if (r.o.action == MR__ACTION_HELP) fputs(mr__options_usage, stdout);
      else if (r.o.action == MR__ACTION_VERSION) printf("mapreduce %s\n", MR_VERSION);
      else list_jobs();
    }
    return finish(&r, 0);
  }
  const char *ntasks = getenv("SLURM_NTASKS");
  if (ntasks && atoi(ntasks) > 1 && r.size == 1 && getenv("SLURM_STEP_ID")) {
    fprintf(stderr, "mapreduce: srun started %s tasks but MPI sees 1: run "
                    "'srun --mpi=pmix ...' (each task would redo the whole input)\n",
            ntasks);
    return finish(&r, EXIT_FATAL);
  }
  uint64_t cut_ns;
  int drc = deadline_start(&r, &cut_ns, &why);
  if (drc) {
    mr_buf_free(&why);
    return finish(&r, drc);
  }

  /* every rank loads the job (or finds the command); the master opens the
   * files */
  const mr_job *job = NULL;
  void *plugin = NULL;
  mr__exec *exec = NULL;
  mr__coproc *cop = NULL;
  mr__colsep *cols = NULL;
  int rc = r.o.colsep ? mr__colsep_compile(r.o.colsep, &cols, &why) : 0;
  if (!rc)
    rc = r.o.worker ? mr__coproc_new(r.o.worker, r.o.raw, &cop, &why)
         : r.o.exec ? mr__exec_compile_cols(r.o.exec, cols, &exec, &why)
                    : mr__job_load(r.o.job, &job, &plugin, &why);
  if (!rc && job && r.o.arg && r.rank == 0)
    rc = mr__job_check_arg(job, plugin != NULL, r.o.arg, &why);
  if (!rc && r.o.keyed) { /* where a spill would go, before the run, on every host */
    const char *dir = r.o.tmpdir ? r.o.tmpdir : getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    if (access(dir, W_OK | X_OK)) {
      mr_buf_puts(&why, "--tmpdir: ");
      rc = mr__error_file(&why, "write spill files in", dir, errno);
    }
  }
  mr__session_cfg scfg;
  mr__options_session_cfg(&r.o, job, exec, stop, &scfg);
  /* a rank's standard error is mpirun's copy: 2>> INPUT is mpirun's */
  char err_path[64];
  long launcher = r.mpi ? mr__launcher_mpirun() : -1;
  if (launcher > 0) {
    snprintf(err_path, sizeof err_path, "/proc/%ld/fd/2", launcher);
    scfg.err_path = err_path;
  }
  mr__session f;
  memset(&f, 0, sizeof f);
  if (r.rank == 0 && !rc) rc = mr__session_open(&f, &scfg, &why);
  int started = rc == 0;
  if (rc && *stop) { /* an open of a FIFO, or a resume's check */
    why.len = 0;
    if (mr__signals_stopped_for_time())
      mr_buf_printf(&why, "stopped for time (--deadline %s) before the run began",
                    r.o.deadline_text);
    else
      mr_buf_printf(&why, "stopped by signal %d before the run began", (int)*stop);
  }
  rc = agree(&r, rc, why.data);
  char **hosts = r.o.joblog && !rc ? gather_hosts(&r) : NULL;
  if (rc) {
    if (started) mr__session_rollback(&f); /* another rank failed to start */
    mr__session_close(&f);
    mr__job_unload(plugin);
    mr__exec_free(exec);
    mr__coproc_free(cop);
    mr__colsep_free(cols);
    mr_buf_free(&why);
    return finish(&r, *stop ? mr__signals_stop_status() : EXIT_FATAL);
  }

  int folding = r.o.keyed || r.o.reduce != MR__OP_NONE;
  /* a fold reads the job's own bytes, not ITEM<TAB>RESULT lines */
  mr__textjob tj = {job, exec, r.o.arg, r.o.raw || folding, stop, cols};
  mr__kernel text_kernel = mr__textjob_kernel(&tj);
  mr__isolate iso = {&text_kernel};
  mr__kernel iso_kernel = mr__isolate_kernel(&iso);
  mr__kernel co_kernel = cop ? mr__coproc_kernel(cop) : text_kernel;
  int isolated = r.o.isolate && !exec && !cop; /* commands are isolated already */
  mr__fold fold;
  /* a reducer command reads every value of its keys: they are kept, in
   * input order, as concat keeps them */
  mr__fold_init(&fold, isolated ? &iso_kernel : &text_kernel,
                r.o.reducer ? MR__OP_CONCAT
                : r.o.reduce != MR__OP_NONE ? r.o.reduce : MR__OP_SUM, r.o.keyed);
  fold.reducer = r.o.reducer;
  /* the built-in wordcount's pairs are counted as the item is split */
  fold.words = r.o.keyed && job && !plugin && !isolated && !cols && !strcmp(job->name, "wordcount");
  mr__kernel fold_kernel = mr__fold_kernel(&fold);
  fold.memory = r.o.memory;
  fold.threads = r.o.threads;
  fold.tmpdir = r.o.tmpdir ? r.o.tmpdir : getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR")
                                                                              : "/tmp";
  if (!isolated && !exec && !cop) mr__crash_notes_setup(r.mpi ? r.rank : -1);
  mr__farm_cfg cfg;
  mr__options_farm_cfg(&r.o, stop, &cfg);
  cfg.deadline_ns = cut_ns;
  watch w;
  memset(&w, 0, sizeof w);
  mr__farm_observer observer;

  mr__src sc = {0};
  mr__textsink ts = {0};
  if (r.rank == 0) { /* the master's files are the farm's source and sink */
    mr__session_src(&f, &sc);
    mr__session_textsink(&f, &ts);
    ts.errs = stderr;
    ts.hosts = (const char *const *)hosts;
    ts.halt = r.o.halt;
  }
  mr__source src = mr__src_source(&sc);
  FILE *errs = NULL;
  w.src = &src;
  w.sc = &sc;
  w.ts = &ts;
  if (r.rank == 0 && watching(&r.o)) {
    rc = watch_open(&r, &w, &f, &why);
    if (!rc && w.obs.cfg.tty) { /* item errors clear the progress line */
      errs = fopencookie(&w, "w", (cookie_io_functions_t){NULL, errs_write, NULL, NULL});
      if (errs) {
        setvbuf(errs, NULL, _IOLBF, 0);
        ts.errs = errs;
      }
    }
    observer = mr__obs_observer(&w.obs);
    cfg.observer = &observer;
  }
  if (watching(&r.o)) rc = agree(&r, rc, why.data); /* a report file refused */
  if (rc) { /* nothing ran: the output is as the run found it */
    mr__obs_free(&w.obs);
    if (errs) fclose(errs);
    if (r.rank == 0) mr__session_rollback(&f);
    mr__session_close(&f);
    hosts_free(hosts);
    mr__textsink_free(&ts);
    mr__src_free(&sc);
    mr__job_unload(plugin);
    mr__exec_free(exec);
    mr_buf_free(&why);
    return finish(&r, EXIT_FATAL);
  }
  mr__sink sink = mr__textsink_sink(&ts);
  mr__farm_stats st;
  memset(&st, 0, sizeof st);

  if (r.mpi && r.rank == 0) { /* said at once if mpirun ends the job */
    const char *where = f.journal ? mr__output_temp(f.out) : NULL;
    mr_buf line = {0};
    mr_buf_printf(&line, "mapreduce: stopped: mpirun is ending the job%s%s%s",
                  where ? "; results so far in " : "", where ? where : "",
                  f.journal || f.joblog ? "; continue with --resume" : "");
    if (line.data) mr__signals_launcher_line(line.data);
    mr_buf_free(&line);
  }
  double cpu0 = mr__affinity_cpu_seconds();
  rc = mr__farm_run(r.comm, &cfg,
                    cop       ? &co_kernel
                    : folding ? &fold_kernel
                    : isolated ? &iso_kernel
                               : &text_kernel,
                    r.rank == 0 ? &src : NULL, r.rank == 0 ? &sink : NULL, &st);
  mr__signals_stop_at_cancel(); /* a run that ended in time ends as usual */
  int timed = st.timed_out || mr__signals_stopped_for_time();
  int fold_said = 0; /* a fold's failure already named */
  if (folding && rc == 0) /* every rank, as the farm agreed */
    rc = fold_finish(&r, &fold, f.out, &fold_said);

  /* a worker out of step wrote lines for no item when its input ended:
   * some results were someone else's (every rank's processes have ended
   * by now; rc is the same everywhere unless a rank is stuck) */
  unsigned long long late = 0;
  if (cop && rc == 0) {
    late = mr__coproc_late_lines(cop);
    if (r.mpi) MPI_Allreduce(MPI_IN_PLACE, &late, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, r.comm);
  }
  int status = 0;
  if (r.rank == 0) {
    uint64_t failed = ts.failed + f.failed_before;
    int out_err = f.out ? mr__output_error(f.out) : 0;
    mr_buf cwhy = {0};
    int crc = 0;
    if (rc == 0 && out_err != MR_EPIPE) {
      if (mr__textsink_sync(&ts)) { /* the last joblog lines */
        rc = MR_EIO;
        out_err = ts.failed_why.len ? 0 : mr__output_error(f.out);
      } else {
        crc = mr__session_complete(&f, &cwhy);
        if (crc && mr__output_error(f.out) == MR_EPIPE) out_err = MR_EPIPE;
      }
    }
    if (out_err == MR_EPIPE && !r.mpi) {
      /* the reader went away (| head): end quietly, as cat would */
      mr__obs_free(&w.obs);
      fflush(stderr);
      signal(SIGPIPE, SIG_DFL);
      raise(SIGPIPE);
      _exit(141);
    }
    if (out_err == MR_EPIPE) {
      /* under mpirun the workers have stopped with the farm and every rank
       * ends as usual. Not with cat's 141: mpirun answers any status but 0
       * with an 11-line notice that the job was aborted, after the reader
       * already has what it asked for; failed items still count */
      mr_buf_free(&cwhy);
      status = exit_status(failed);
      goto done;
    }
    if (rc == 0) {
      if (crc) {
        say(&r, "%s", cwhy.data ? cwhy.data : "");
        rc = MR_EIO;
      }
    } else if (out_err) {
      say(&r, "%s", mr__output_why(f.out));
    } else if (ts.failed_why.len) {
      say(&r, "%s", ts.failed_why.data);
    } else if (rc != MR_EINTR && !fold_said) {
      mr_buf wwhy = {0};
      if (sc.why.len) say(&r, "%s", sc.why.data);
      else if (cop && mr__coproc_failure(cop, &wwhy)) say(&r, "%s", wwhy.data);
      else if (cop && (rc == MR_ECRASH || rc == MR_ENOENT || rc == MR_EIO || rc == MR_EJOB ||
                       rc == MR_EACCES))
        say(&r, "--worker \"%s\" cannot start, or never answered, on another rank "
                "(its own messages, if any, are above)", r.o.worker);
      else say(&r, "run failed: %s", mr_strerror(rc));
      mr_buf_free(&wwhy);
    }
    mr_buf_free(&cwhy);
    if (rc) { /* keep every finished result for a resume */
      if (f.journal) mr__output_keep(f.out);
      mr__textsink_sync(&ts); /* the output, then the records that describe it */
      if (rc == MR_EINVAL && sc.why.len) {
        /* a resume refused part-way through a stream: what this run did
         * was done to another input, and is no part of the one resumed */
        mr__session_rollback(&f);
        if (f.joblog) mr__joblog_rollback(f.joblog);
      }
    }
    if (late && rc == 0) {
      say(&r, "--worker \"%s\" wrote %llu line%s more than it was given items: some "
              "results are out of step (a result is one line; messages go to stderr)",
          r.o.worker, late, late == 1 ? "" : "s");
      rc = MR_EJOB;
    }
    if (w.on || r.o.stats) watch_finish(&r, &w, rc, &st);
    if (rc == 0) binding_note(&r, &st, cpu0);
    if (rc == MR_EINTR) {
      const char *where = f.journal ? mr__output_temp(f.out) : NULL;
      char by[160] = ": mpirun is ending the job";
      if (timed && (!*stop || *stop == MR__STOP_TIME))
        snprintf(by, sizeof by, " for time (--deadline %s)", r.o.deadline_text);
      else if (!mr__signals_stopped_by_launcher())
        snprintf(by, sizeof by, " by signal %d", (int)*stop);
      if (mr__signals_launcher_line_said())
        ; /* said as mpirun began to end the job */
      else if (*stop || timed)
        say(&r, "stopped%s: %" PRIu64 " items done, %" PRIu64
                " in flight dropped%s%s%s",
            by, ts.ok + ts.failed, st.lost,
            where ? "; results so far in " : "", where ? where : "",
            f.journal || f.joblog ? "; continue with --resume" : "");
      else
        say(&r, "halted (--halt %s) after %" PRIu64 " failed item%s%s%s",
            r.o.halt_text, ts.failed, ts.failed == 1 ? "" : "s",
            where ? "; results so far in " : "", where ? where : "");
    }
    status = rc == MR_EINTR && *stop ? mr__signals_stop_status()
             : rc == MR_EINTR && timed ? MR__EXIT_TIME
             : rc && rc != MR_EINTR           ? EXIT_FATAL
                                              : exit_status(failed);
  }
done:
  mr__obs_free(&w.obs);
  if (errs) fclose(errs);
  mr__session_close(&f);
  hosts_free(hosts);
  mr__textsink_free(&ts);
  mr__src_free(&sc);
  if (st.stuck && r.mpi) {
    fflush(NULL);
    mr__launcher_hurry_exit(status);
    MPI_Abort(MPI_COMM_WORLD, status); /* workers stuck in an item */
  }
  if (st.abandoned) {
    /* a thread still runs the job's code on an item the stop left for
     * --resume: everything is written; end the process, and the thread,
     * without unloading that code under it */
    status = finish(&r, status);
    fflush(NULL);
    _exit(status);
  }
  mr__fold_free(&fold);
  mr__job_unload(plugin);
  mr__exec_free(exec);
  mr__coproc_free(cop);
  mr__colsep_free(cols);
  mr_buf_free(&why);
  return finish(&r, status);
}
