/* main.c: the mapreduce command. The only file that starts MPI, prints to
 * the terminal and picks the exit status; the rest is the library. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "farm.h"
#include "exec.h"
#include "input.h"
#include "job.h"
#include "mapreduce.h"
#include "output.h"
#include "textjob.h"
#include "textsink.h"

#define EXIT_FATAL 255
#define EXIT_MANY 101 /* more than 100 items failed */

typedef struct opts {
  const char *job;
  const char *input;
  const char *output;
  const char *arg;
  const char *exec;   /* --exec template, "" for --shell */
  int job_given;
  int raw;
  size_t chunksize;
  int threads;
  int unordered;
  int stats;
  int master_compute;
  size_t max_line;
  enum { RUN, HELP, VERSION, LIST } action;
} opts;

static const char usage_text[] =
    "Usage: mapreduce [OPTIONS] [INPUT]\n"
    "Pool.map for a cluster: apply a job to every line of INPUT (a file, or -\n"
    "or nothing for standard input) on all MPI ranks, and write ITEM<TAB>RESULT\n"
    "lines in input order. Run it as it is, or under mpirun/srun.\n"
    "\n"
    "  -j, --job NAME|PLUGIN.so  the computation (default prime; --list-jobs)\n"
    "  -a, --arg TEXT            a parameter for the job\n"
    "  -e, --exec 'CMD {}'       run a command per item (GNU parallel's {} {.}\n"
    "                            {/} {//} {/.} {#}); its output is the result\n"
    "      --shell               each item is a shell command line to run\n"
    "      --raw                 write results as produced, without ITEM<TAB>\n"
    "  -o, --output FILE         write results to FILE (atomically), not stdout\n"
    "  -c, --chunksize N         items per message (default: adaptive)\n"
    "  -t, --threads N           computing threads per rank (default 1)\n"
    "  -u, --unordered           write each result as soon as it is ready\n"
    "      --max-line BYTES      longest accepted input line (default 1048576)\n"
    "      --stats               print timing and throughput to stderr\n"
    "      --list-jobs           list the built-in jobs\n"
    "  -h, --help                this help\n"
    "      --version             the version\n"
    "\n"
    "Exit status: 0 all items succeeded; 1-100 that many items failed; 101\n"
    "more than 100 failed; 255 a usage or fatal error.\n";

enum { OPT_STATS = 256, OPT_LIST, OPT_VERSION, OPT_MAXLINE, OPT_MASTER,
       OPT_SHELL, OPT_RAW };

static int parse_size(const char *s, size_t min, size_t max, size_t *out) {
  if (!s || !*s || strspn(s, "0123456789") != strlen(s)) return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v < min || v > max) return -1;
  *out = (size_t)v;
  return 0;
}

/* 0: run; 1: done (help, version); -1: usage error, reason in why */
static int parse_args(int argc, char **argv, opts *o, mr_buf *why) {
  static const struct option longs[] = {
      {"job", required_argument, NULL, 'j'},
      {"arg", required_argument, NULL, 'a'},
      {"exec", required_argument, NULL, 'e'},
      {"shell", no_argument, NULL, OPT_SHELL},
      {"raw", no_argument, NULL, OPT_RAW},
      {"output", required_argument, NULL, 'o'},
      {"chunksize", required_argument, NULL, 'c'},
      {"threads", required_argument, NULL, 't'},
      {"unordered", no_argument, NULL, 'u'},
      {"max-line", required_argument, NULL, OPT_MAXLINE},
      {"stats", no_argument, NULL, OPT_STATS},
      {"list-jobs", no_argument, NULL, OPT_LIST},
      {"master-compute", required_argument, NULL, OPT_MASTER},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, OPT_VERSION},
      {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->job = "prime";
  o->threads = 1;
  o->master_compute = -1;
  o->max_line = MR_LINE_MAX_DEFAULT;
  opterr = 0;
  optind = 1;
  int c;
  size_t v;
  while ((c = getopt_long(argc, argv, ":j:a:e:o:c:t:uh", longs, NULL)) != -1) {
    switch (c) {
    case 'j':
      o->job = optarg;
      o->job_given = 1;
      break;
    case 'a': o->arg = optarg; break;
    case 'e':
      if (!*optarg) {
        mr_buf_puts(why, "--exec needs a command");
        return -1;
      }
      o->exec = optarg;
      break;
    case OPT_SHELL: o->exec = ""; break;
    case OPT_RAW: o->raw = 1; break;
    case 'o': o->output = optarg; break;
    case 'c':
      if (parse_size(optarg, 1, 1u << 24, &o->chunksize)) {
        mr_buf_printf(why, "--chunksize wants a whole number from 1 to 16777216, not '%s'", optarg);
        return -1;
      }
      break;
    case 't':
      if (parse_size(optarg, 1, 1024, &v)) {
        mr_buf_printf(why, "--threads wants a whole number from 1 to 1024, not '%s'", optarg);
        return -1;
      }
      o->threads = (int)v;
      break;
    case 'u': o->unordered = 1; break;
    case OPT_MAXLINE:
      if (parse_size(optarg, 16, 1u << 30, &o->max_line)) {
        mr_buf_printf(why, "--max-line wants a number of bytes from 16 to 1073741824, not '%s'", optarg);
        return -1;
      }
      break;
    case OPT_STATS: o->stats = 1; break;
    case OPT_LIST: o->action = LIST; return 1;
    case OPT_MASTER:
      if (!strcmp(optarg, "yes")) o->master_compute = 1;
      else if (!strcmp(optarg, "no")) o->master_compute = 0;
      else if (!strcmp(optarg, "auto")) o->master_compute = -1;
      else {
        mr_buf_printf(why, "--master-compute wants yes, no or auto, not '%s'", optarg);
        return -1;
      }
      break;
    case 'h': o->action = HELP; return 1;
    case OPT_VERSION: o->action = VERSION; return 1;
    case ':':
      mr_buf_printf(why, "option '%s' needs a value", argv[optind - 1]);
      return -1;
    default:
      if (optopt) mr_buf_printf(why, "unknown option '-%c'", optopt);
      else mr_buf_printf(why, "unknown option '%s'", argv[optind - 1]);
      return -1;
    }
  }
  if (argc - optind > 1) {
    mr_buf_printf(why, "one INPUT at most (got '%s' and '%s')", argv[optind],
                  argv[optind + 1]);
    return -1;
  }
  o->input = optind < argc ? argv[optind] : NULL;
  if (o->exec && o->job_given) {
    mr_buf_puts(why, "--job and --exec/--shell exclude each other");
    return -1;
  }
  return 0;
}

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
  opts o;
  MPI_Comm comm;
  int rank;
  int size;
  int mpi;
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
  if (r->mpi) {
    MPI_Comm_free(&r->comm);
    MPI_Finalize();
  }
  return status;
}

/* ---------------------------------------------------------- the source */

typedef struct src_ctx {
  mr__input *in;
  uint64_t items;
} src_ctx;

static int src_next(void *ctx, mr__item *it) {
  src_ctx *s = ctx;
  mr__line line;
  int rc = input_next(s->in, &line);
  if (rc <= 0) return rc;
  it->text = line.text;
  it->len = line.len;
  it->tag = line.lineno;
  it->bad = line.bad;
  s->items++;
  return 1;
}

static uint64_t src_remaining(void *ctx) {
  src_ctx *s = ctx;
  uint64_t size = input_size(s->in), off = input_offset(s->in);
  if (!size || !s->items || off == 0) return UINT64_MAX;
  if (off >= size) return 0;
  double per = (double)off / (double)s->items;
  return (uint64_t)((double)(size - off) / per);
}

/* ------------------------------------------------------------- signals */

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig) {
  if (stop_requested) { /* a second signal: give up at once */
    signal(sig, SIG_DFL);
    raise(sig);
  }
  stop_requested = sig;
}

static void signals_setup(void) {
  signal(SIGPIPE, SIG_IGN); /* a closed pipe shows as EPIPE; see below */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
}

/* ---------------------------------------------------------------- main */

static int exit_status(uint64_t failed) {
  return failed == 0 ? 0 : failed > 100 ? EXIT_MANY : (int)failed;
}

static void list_jobs(void) {
  for (const mr_job *const *j = mr__builtin_jobs; *j; j++)
    printf("%-8s %s\n", (*j)->name, (*j)->summary ? (*j)->summary : "");
}

static void print_stats(const run *r, const mr__farm_stats *st,
                        const mr__textsink *ts) {
  double ips = st->seconds > 0 ? (double)st->items / st->seconds : 0;
  double eff = st->seconds > 0 && st->computing
                   ? (double)st->busy_ns * 1e-9 / (st->seconds * st->computing)
                   : 0;
  fprintf(stderr,
          "mapreduce: stats: items=%" PRIu64 " ok=%" PRIu64 " failed=%" PRIu64
          " chunks=%" PRIu64 " seconds=%.6f items_per_s=%.0f ranks=%d"
          " computing=%d busy_s=%.3f efficiency=%.3f\n",
          st->items, ts->ok, ts->failed, st->chunks, st->seconds, ips, r->size,
          st->computing, (double)st->busy_ns * 1e-9, eff);
}

int main(int argc, char **argv) {
  run r;
  memset(&r, 0, sizeof r);
  r.comm = MPI_COMM_NULL;
  r.size = 1;
  mr_buf why = {0};
  int prc = parse_args(argc, argv, &r.o, &why);
  signals_setup();

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
  }
  if (prc < 0) {
    say(&r, "%s (try 'mapreduce --help')", why.data);
    mr_buf_free(&why);
    return finish(&r, EXIT_FATAL);
  }
  if (r.o.action != RUN) {
    if (r.rank == 0) {
      if (r.o.action == HELP) fputs(usage_text, stdout);
      else if (r.o.action == VERSION) printf("mapreduce %s\n", MR_VERSION);
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

  /* every rank loads the job (or finds the command); the master opens the
   * files */
  const mr_job *job = NULL;
  void *plugin = NULL;
  mr__exec *exec = NULL;
  int rc = r.o.exec ? exec_compile(r.o.exec, &exec, &why)
                    : job_load(r.o.job, &job, &plugin, &why);

  mr__input *in = NULL;
  mr__output *out = NULL;
  if (r.rank == 0 && !rc) {
    int err = 0;
    in = input_open(r.o.input, r.o.max_line, &err);
    if (!in) {
      mr_buf_printf(&why, "cannot read '%s': %s", r.o.input ? r.o.input : "-", strerror(err));
      rc = MR_EIO;
    } else if (!(out = output_open(r.o.output, &err))) {
      mr_buf_printf(&why, "cannot write '%s': %s", r.o.output, strerror(err));
      rc = MR_EIO;
    }
  }
  rc = agree(&r, rc, why.data);
  if (rc) {
    input_free(in);
    output_free(out);
    job_unload(plugin);
    exec_free(exec);
    mr_buf_free(&why);
    return finish(&r, EXIT_FATAL);
  }

  mr__textjob tj = {job, exec, r.o.arg, r.o.raw, 0};
  mr__kernel k = textjob_kernel(&tj);
  mr__farm_cfg cfg = {r.o.chunksize, r.o.threads, r.o.unordered,
                      r.o.master_compute, 0, 0, &stop_requested, 0};
  src_ctx sc = {in, 0};
  mr__source src = {src_next, src_remaining, &sc};
  mr__textsink ts = {out, stderr, in ? input_name(in) : "-", r.o.max_line, 0, 0};
  mr__sink sink = textsink_sink(&ts);
  mr__farm_stats st;
  memset(&st, 0, sizeof st);

  rc = mr__farm_run(r.comm, &cfg, &k, r.rank == 0 ? &src : NULL,
                    r.rank == 0 ? &sink : NULL, &st);

  int status = 0;
  if (r.rank == 0) {
    int out_err = out ? output_errno(out) : 0;
    if (out_err == EPIPE) {
      /* the reader went away (| head): end quietly, as cat would */
      output_free(out);
      fflush(stderr);
      if (r.mpi) MPI_Abort(MPI_COMM_WORLD, 141);
      signal(SIGPIPE, SIG_DFL);
      raise(SIGPIPE);
      _exit(141);
    }
    if (rc == 0 || rc == MR_EINTR) {
      if (output_commit(out)) {
        say(&r, "cannot write '%s': %s", output_name(out),
            strerror(output_errno(out)));
        rc = MR_EIO;
      }
    } else if (out && output_errno(out)) {
      say(&r, "cannot write '%s': %s", output_name(out), strerror(out_err));
    } else if (rc == MR_EIO) {
      say(&r, "cannot read '%s': %s", input_name(in), strerror(errno));
    } else {
      say(&r, "run failed: %s", mr_strerror(rc));
    }
    if (r.o.stats) print_stats(&r, &st, &ts);
    if (rc == MR_EINTR)
      say(&r, "stopped by signal %d: %" PRIu64 " items written", (int)stop_requested, ts.ok);
    status = rc && rc != MR_EINTR ? EXIT_FATAL : exit_status(ts.failed);
  }
  input_free(in);
  output_free(out);
  job_unload(plugin);
  exec_free(exec);
  mr_buf_free(&why);
  if (rc == MR_EINTR && r.mpi && st.lost_chunks) {
    fflush(NULL);
    MPI_Abort(MPI_COMM_WORLD, status); /* workers stuck in an item */
  }
  return finish(&r, status);
}
