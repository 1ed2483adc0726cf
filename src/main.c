/* main.c: the mapreduce command. The only file that starts MPI, prints to
 * the terminal and picks the exit status; the rest is the library. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "affinity.h"
#include "exec.h"
#include "farm.h"
#include "idle.h"
#include "input.h"
#include "isolate.h"
#include "job.h"
#include "joblog.h"
#include "journal.h"
#include "launcher.h"
#include "mapreduce.h"
#include "output.h"
#include "safefile.h"
#include "source.h"
#include "textjob.h"
#include "textsink.h"

#define EXIT_FATAL 255
#define EXIT_MANY 101 /* more than 100 items failed */

typedef struct opts {
  const char *job;
  const char *input;
  const char *output;
  const char *arg;
  const char *exec; /* --exec template, "" for --shell */
  const char *joblog;
  const char *halt_text;
  int job_given;
  int raw;
  size_t chunksize;
  int threads;
  int unordered;
  int stats;
  int master_compute;
  int isolate;
  int retries;
  int resume;       /* 1 --resume, 2 --resume-failed */
  double timeout_s;
  double timeout_pct;
  mr__halt halt;
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
    "\n"
    "Failures and restarts:\n"
    "      --halt WHEN           never (default), soon,fail=N|P%, now,fail=N|P%\n"
    "      --isolate             run the job in child processes: a crash fails\n"
    "                            only its item\n"
    "      --timeout SECS|P%     fail an item running longer (P% of the median\n"
    "                            item time); implies --isolate for jobs\n"
    "      --retries N           run a failed item up to N more times,\n"
    "                            on another host or rank\n"
    "      --joblog FILE         log every item in GNU parallel's format\n"
    "      --resume              continue an unfinished run (-o FILE's journal,\n"
    "                            or --joblog)\n"
    "      --resume-failed       the same, and run its failed items again\n"
    "\n"
    "      --max-line BYTES      longest accepted input line (default 1048576)\n"
    "      --stats               print timing and throughput to stderr\n"
    "      --master-compute yes|no|auto  whether rank 0 computes too (auto:\n"
    "                            with fewer than 16 workers)\n"
    "      --list-jobs           list the built-in jobs\n"
    "  -h, --help                this help\n"
    "      --version             the version\n"
    "\n"
    "Exit status: 0 all items succeeded; 1-100 that many items failed; 101\n"
    "more than 100 failed; 128+N stopped by signal N (resume with --resume);\n"
    "255 a usage or fatal error.\n";

enum {
  OPT_STATS = 256, OPT_LIST, OPT_VERSION, OPT_MAXLINE, OPT_MASTER, OPT_SHELL,
  OPT_RAW, OPT_HALT, OPT_ISOLATE, OPT_TIMEOUT, OPT_RETRIES, OPT_JOBLOG,
  OPT_RESUME, OPT_RESUME_FAILED
};

static int parse_size(const char *s, size_t min, size_t max, size_t *out) {
  if (!s || !*s || strspn(s, "0123456789") != strlen(s)) return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v < min || v > max) return -1;
  *out = (size_t)v;
  return 0;
}

static int parse_timeout(const char *s, opts *o) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno || !(v > 0) || v > 1e7 || strspn(s, "0123456789.%") != strlen(s))
    return -1;
  if (*end == '%' && end[1] == '\0') o->timeout_pct = v;
  else if (*end == '\0') o->timeout_s = v;
  else return -1;
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
      {"halt", required_argument, NULL, OPT_HALT},
      {"isolate", no_argument, NULL, OPT_ISOLATE},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"retries", required_argument, NULL, OPT_RETRIES},
      {"joblog", required_argument, NULL, OPT_JOBLOG},
      {"resume", no_argument, NULL, OPT_RESUME},
      {"resume-failed", no_argument, NULL, OPT_RESUME_FAILED},
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
    case 'o':
    case OPT_JOBLOG:
      if (!*optarg) { /* else ".partial" and ".journal" in the directory */
        mr_buf_printf(why, "%s needs a file name", c == 'o' ? "-o" : "--joblog");
        return -1;
      }
      *(c == 'o' ? &o->output : &o->joblog) = optarg;
      break;
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
    case OPT_HALT:
      if (textsink_parse_halt(optarg, &o->halt)) {
        mr_buf_printf(why, "--halt wants never, soon,fail=N, now,fail=N or a "
                           "percentage like now,fail=10%%, not '%s'", optarg);
        return -1;
      }
      o->halt_text = optarg;
      break;
    case OPT_ISOLATE: o->isolate = 1; break;
    case OPT_TIMEOUT:
      if (parse_timeout(optarg, o)) {
        mr_buf_printf(why, "--timeout wants seconds (2.5) or a percentage of the "
                           "median item time (200%%), not '%s'", optarg);
        return -1;
      }
      break;
    case OPT_RETRIES:
      if (parse_size(optarg, 0, 1000, &v)) {
        mr_buf_printf(why, "--retries wants a whole number from 0 to 1000, not '%s'", optarg);
        return -1;
      }
      o->retries = (int)v;
      break;
    case OPT_RESUME: o->resume = o->resume ? o->resume : 1; break;
    case OPT_RESUME_FAILED: o->resume = 2; break;
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
  if (o->exec && o->arg) {
    mr_buf_puts(why, "--arg is for jobs (-j); a command takes its parameters "
                     "in its template");
    return -1;
  }
  int to_file = o->output && strcmp(o->output, "-") != 0;
  if (o->resume && !to_file && !o->joblog) {
    mr_buf_puts(why, "--resume needs -o FILE (its journal) or --joblog FILE");
    return -1;
  }
  if ((o->timeout_s > 0 || o->timeout_pct > 0) && !o->exec) o->isolate = 1;
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

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t exit_status_now;

static void on_finalize_timeout(int sig) {
  (void)sig;
  _exit(exit_status_now);
}

static int finish(run *r, int status) {
  fflush(stdout);
  if (r->mpi && stop_requested) {
    /* mpirun is ending the job: it forwards SIGTERM a second after it gets
     * one and then stops answering, so MPI_Finalize would block until its
     * SIGKILL. Everything is written and journaled by now; give Finalize
     * (and mpirun's copying of our messages) 0.3 s, then leave. */
    fflush(NULL);
    exit_status_now = status ? status : 128 + (int)stop_requested;
    signal(SIGALRM, on_finalize_timeout);
    struct itimerval t = {{0, 0}, {0, 300000}};
    setitimer(ITIMER_REAL, &t, NULL);
  }
  if (r->mpi) {
    MPI_Comm_free(&r->comm);
    MPI_Finalize();
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

/* Rank 0 writes the results where mpirun's own standard output goes,
 * rather than through mpirun's copying (launcher.h): at the speed of -o,
 * and a full disk or a closed pipe is seen here, as without mpirun. */
static void stdout_direct(void) {
  int fd = launcher_stdout();
  if (fd < 0) return;
  fflush(stdout);
  if (dup2(fd, STDOUT_FILENO) < 0) { /* keep the forwarded stream */ }
  close(fd);
}

/* ------------------------------------------------------------- signals */

/* timeout(1), and a kill of a process group that holds both mpirun and
 * the ranks, deliver one signal twice within microseconds: the same signal
 * again this soon is the same request, not the impatient second one. */
#define SAME_REQUEST_NS 100000000LL
static atomic_llong stop_at_ns;

/* The last resort of a stop. Commands, --isolate's children and jobs that
 * look at mr_stopping end at once, and a master thread stuck in an item is
 * left behind (pool_stop); but the master computes the shortest chunks in
 * its own loop, where an item that never returns would hold the run for
 * ever, as would a write to a pipe no one reads. After this long the
 * process ends as a second signal would: the journal keeps what was
 * written, --resume does the rest. */
#define STOP_OVERDUE_S 3
#define STR_(x) #x
#define STR(x) STR_(x)

static void on_stop_overdue(int sig) {
  (void)sig;
  static const char msg[] = "mapreduce: stopped, but the run did not end within "
                            STR(STOP_OVERDUE_S) " s of the stop (an item or "
                            "a write that does not return); exiting (continue "
                            "with --resume)\n";
  ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)w;
  _exit(128 + (int)stop_requested);
}

static void on_stop_signal(int sig) {
  long long now = (long long)mr__now_ns(); /* clock_gettime: signal-safe */
  if (stop_requested) {
    if (sig == stop_requested && now - atomic_load(&stop_at_ns) < SAME_REQUEST_NS)
      return;
    signal(sig, SIG_DFL); /* a second signal: give up at once */
    raise(sig);
  }
  atomic_store(&stop_at_ns, now);
  stop_requested = sig;
  alarm(STOP_OVERDUE_S);
}

/* mpirun cannot pass a SIGTERM or SIGINT on at once: it ends a job (after
 * one of those, or after a rank died) by sending every rank SIGCONT, then
 * a second later SIGTERM, then a second later SIGKILL. A SIGCONT from the
 * parent Open MPI daemon to a rank that was running is that first step, and
 * starting the drain there gives it two seconds instead of one. A SIGCONT
 * that resumes a stopped rank (Ctrl-Z and fg of mpirun, Slurm's suspend
 * and resume) changes nothing: the heartbeat thread, stopped with the rest
 * of the process, is either still stale when the handler runs or, if it
 * woke first, has noted the gap it slept through. */
#define HEARTBEAT_NS 50000000LL
#define HEARTBEAT_STALE_NS 500000000LL
#define AFTER_GAP_NS 2000000000LL /* a gap this recent means we were stopped */
static atomic_llong heartbeat_ns, gap_ns;
static volatile sig_atomic_t stop_by_launcher;

static void *heartbeat(void *arg) {
  (void)arg;
  struct timespec nap = {0, HEARTBEAT_NS};
  for (;;) {
    long long now = (long long)mr__now_ns();
    if (now - atomic_load(&heartbeat_ns) > HEARTBEAT_STALE_NS)
      atomic_store(&gap_ns, now); /* before the beat: see on_sigcont */
    atomic_store(&heartbeat_ns, now);
    nanosleep(&nap, NULL);
  }
  return NULL;
}

static void on_sigcont(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  if (stop_requested || si->si_code != SI_USER || si->si_pid != getppid())
    return;
  long long now = (long long)mr__now_ns();
  if (now - atomic_load(&heartbeat_ns) > HEARTBEAT_STALE_NS) return;
  long long gap = atomic_load(&gap_ns);
  if (gap && now - gap < AFTER_GAP_NS) return; /* we were stopped */
  stop_by_launcher = 1;
  stop_requested = SIGTERM;
}

/* Only where the parent is mpirun or its daemon (not under srun, which
 * sends SIGTERM itself, and not through a wrapper script). */
static void watch_launcher(void) {
  if (!getenv("OMPI_MCA_orte_local_daemon_uri") || !atomic_is_lock_free(&heartbeat_ns))
    return;
  atomic_store(&heartbeat_ns, (long long)mr__now_ns());
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread takes no signals */
  pthread_t t;
  int rc = pthread_create(&t, NULL, heartbeat, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc) return;
  pthread_detach(t);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigcont;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCONT, &sa, NULL);
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
  sa.sa_handler = on_stop_overdue;
  sigaction(SIGALRM, &sa, NULL);
  job_watch_stop(&stop_requested); /* jobs, commands, --isolate's children */
  watch_launcher();
}

/* ------------------------------------------------------- crash notes */

/* Without --isolate a crash in the job ends its rank, and Open MPI the whole
 * job, with a backtrace that does not say which item did it. Say that first,
 * in one line, then let the handler that was there (Open MPI's backtrace,
 * a sanitizer's report, or the default) end the process. Only
 * async-signal-safe calls in here. */
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NCRASH (sizeof crash_signals / sizeof *crash_signals)
static struct sigaction crash_prev[NCRASH];
static int crash_rank = -1; /* -1: alone, no rank to name */

/* Appends s; with printable set, control bytes show as '?'. */
static size_t put_text(char *b, size_t n, size_t cap, const char *s, size_t len,
                       int printable) {
  for (size_t i = 0; i < len && n < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    b[n++] = !printable || (c >= 0x20 && c != 0x7f) ? (char)c : '?';
  }
  return n;
}

static size_t put_num(char *b, size_t n, size_t cap, uint64_t v) {
  char d[24];
  size_t k = 0;
  do d[k++] = (char)('0' + v % 10); while ((v /= 10) && k < sizeof d);
  while (k && n < cap) b[n++] = d[--k];
  return n;
}

static void on_crash(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  const char *text = mr__now_computing.text;
  if (text) {
    char b[400];
    size_t n = 0, cap = sizeof b;
#define PUT(s) n = put_text(b, n, cap, s, strlen(s), 0)
    PUT("mapreduce: ");
    if (crash_rank >= 0) {
      PUT("rank ");
      n = put_num(b, n, cap, (uint64_t)crash_rank);
      PUT(": ");
    }
    PUT("the job crashed (signal ");
    n = put_num(b, n, cap, (uint64_t)sig);
    PUT(") on item ");
    n = put_num(b, n, cap, mr__now_computing.seq + 1);
    PUT(" '");
    size_t len = mr__now_computing.len;
    n = put_text(b, n, cap, text, len > 60 ? 60 : len, 1);
    if (len > 60) PUT("...");
    PUT("'; --isolate makes a crash fail only its item\n");
#undef PUT
    if (n == cap) b[cap - 1] = '\n';
    ssize_t w = write(STDERR_FILENO, b, n);
    (void)w;
  }
  for (size_t i = 0; i < NCRASH; i++)
    if (crash_signals[i] == sig) sigaction(sig, &crash_prev[i], NULL);
  /* a fault of the code: returning runs the instruction again, and the
   * handler that was there sees the real fault; a signal that was sent
   * (abort(), raise()) is sent again */
  if (si->si_code <= 0) raise(sig);
}

/* After MPI_Init, whose handlers these go before. */
static void crash_notes_setup(int rank) {
  crash_rank = rank;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_crash;
  /* SA_ONSTACK: on a stack overflow, the alternate stack a sanitizer sets
   * up; SA_NODEFER: the raise above reaches the old handler at once */
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < NCRASH; i++)
    sigaction(crash_signals[i], &sa, &crash_prev[i]);
}

/* ------------------------------------------------------- what runs */

typedef struct job_desc {
  const mr_job *job;
  const mr__exec *exec;
} job_desc;

/* The joblog Command of an item, and what a resume checks it against. */
static void describe(void *ctx, const char *item, size_t len, uint64_t seq,
                     mr_buf *out) {
  const job_desc *d = ctx;
  if (d->exec) {
    exec_describe(d->exec, item, len, seq, out);
  } else {
    mr_buf_puts(out, d->job->name);
    mr_buf_append(out, " ", 1);
    mr_buf_append(out, item, len);
  }
  for (size_t i = 0; i < out->len; i++) /* as the joblog writes it */
    if (out->data[i] == '\n') out->data[i] = ' ';
}

/* What a journal must have been written by to be resumed. */
static void job_spec(const opts *o, mr_buf *spec) {
  if (!o->exec) mr_buf_printf(spec, "-j %s", o->job);
  else if (!*o->exec) mr_buf_puts(spec, "--shell");
  else mr_buf_printf(spec, "--exec %s", o->exec);
  if (o->arg) mr_buf_printf(spec, " -a %s", o->arg);
  if (o->raw) mr_buf_puts(spec, " --raw");
}

static int exit_status(uint64_t failed) {
  return failed == 0 ? 0 : failed > 100 ? EXIT_MANY : (int)failed;
}

static void list_jobs(void) {
  for (const mr_job *const *j = mr__builtin_jobs; *j; j++)
    printf("%-8s %s\n", (*j)->name, (*j)->summary ? (*j)->summary : "");
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
  int busy = threads + 1, cores = affinity_cores(); /* + reading and writing */
  int could = affinity_parent_cores(); /* what the launcher itself may use */
  if (!affinity_starved(busy, cores, could, st->node_ranks,
                        affinity_cpu_seconds() - cpu0, wall))
    return;
  say(r, "note: rank 0 ran %d threads on %d of the %d cores its launcher has "
      "(its CPU binding) and kept %s busy; mpirun --bind-to none (or srun "
      "--cpus-per-task=N) lets them use the others",
      busy, cores, could, cores == 1 ? "it" : "them");
}

static void print_stats(const run *r, const mr__farm_stats *st,
                        const mr__textsink *ts) {
  double ips = st->seconds > 0 ? (double)st->items / st->seconds : 0;
  double eff = st->seconds > 0 && st->computing
                   ? (double)st->busy_ns * 1e-9 / (st->seconds * st->computing)
                   : 0;
  fprintf(stderr,
          "mapreduce: stats: items=%" PRIu64 " ok=%" PRIu64 " failed=%" PRIu64
          " chunks=%" PRIu64 " setup_s=%.6f seconds=%.6f items_per_s=%.0f ranks=%d"
          " computing=%d busy_s=%.3f efficiency=%.3f retried=%" PRIu64
          " given_back=%" PRIu64 " lost=%" PRIu64 "\n",
          st->items, ts->ok, ts->failed, st->chunks, st->setup_s, st->seconds, ips, r->size,
          st->computing, (double)st->busy_ns * 1e-9, eff, st->retried, st->given_back,
          st->lost);
}

/* --------------------------------------------------- the master's files */

typedef struct files {
  mr__input *in;
  mr__output *out;
  mr__journal *journal;
  mr__joblog *joblog;
  mr__jrec *joblog_recs;
  mr__doneset joblog_done;
  mr__doneset *done;      /* what to skip, from the journal or the joblog */
  int done_by_command;    /* joblog: checked by command, not item text */
  int finished;           /* -o FILE is a finished run's: leave it be */
  uint64_t failed_before; /* failures an earlier run left in force */
  mr__target out_t, log_t; /* where -o and --joblog lead */
} files;

/* The output's derived name k: 0 FILE.partial, 1 FILE.journal. */
static void derived_path(const files *f, int k, mr_buf *path) {
  mr_buf_printf(path, "%s.%s", f->out_t.path, k ? "journal" : "partial");
}

/* The identity of what a target leads to (safefile.h). */
static void target_id(const mr__target *t, mr__fileid *id) {
  memset(id, 0, sizeof *id);
  if (t->kind == SAFEFILE_FD) safefile_id_fd(t->fd, id);
  else if (t->kind == SAFEFILE_FILE) safefile_id(t->path, id);
}

/* Refuses one file in two roles (input, output and the names derived from
 * it, joblog), by device and inode, not by name: a joblog on the input
 * truncates it, one on the output or its journal is lost with it. */
static int files_roles(const opts *o, const files *f, mr_buf *why) {
  enum { IN, OUT, PART, JOURNAL, LOG, NROLE };
  mr__fileid id[NROLE];
  mr_buf name[NROLE];
  memset(id, 0, sizeof id); /* none: no file, or no such role */
  memset(name, 0, sizeof name);
  if (!o->input || strcmp(o->input, "-") == 0) {
    safefile_id_fd(0, &id[IN]);
    mr_buf_puts(&name[IN], "standard input");
  } else {
    safefile_id(o->input, &id[IN]);
    mr_buf_printf(&name[IN], "INPUT '%s'", o->input);
  }
  target_id(&f->out_t, &id[OUT]);
  if (f->out_t.path) mr_buf_printf(&name[OUT], "-o '%s'", o->output);
  else mr_buf_puts(&name[OUT], "standard output");
  if (f->out_t.kind == SAFEFILE_FILE) {
    for (int k = 0; k < 2; k++) {
      mr_buf path = {0};
      derived_path(f, k, &path);
      safefile_id(path.data, &id[PART + k]);
      mr_buf_printf(&name[PART + k], "-o '%s' (its '%s')", o->output, path.data);
      mr_buf_free(&path);
    }
  }
  target_id(&f->log_t, &id[LOG]);
  if (o->joblog) mr_buf_printf(&name[LOG], "--joblog '%s'", o->joblog);
  int rc = 0;
  for (int a = 0; a < NROLE && !rc; a++)
    for (int b = a + 1; b < NROLE && !rc; b++) {
      if (a >= OUT && b <= JOURNAL) continue; /* one role: the output's */
      if (!safefile_same(&id[a], &id[b])) continue;
      mr_buf_printf(why, "%s and %s are one file; give each its own",
                    name[a].data, name[b].data);
      rc = MR_EINVAL;
    }
  for (int k = 0; k < NROLE; k++) mr_buf_free(&name[k]);
  return rc;
}

/* Where -o and --joblog lead, and whether the names derived from the
 * output are ours to continue or replace. */
static int files_resolve(const opts *o, files *f, mr_buf *why) {
  f->out_t.kind = SAFEFILE_FD; /* standard output, unless -o says */
  f->out_t.fd = 1;
  f->log_t.kind = SAFEFILE_DEVICE; /* none: no identity */
  int rc = 0;
  if (o->output && strcmp(o->output, "-") != 0)
    rc = safefile_target(o->output, "-o", &f->out_t, why);
  if (!rc && o->joblog) rc = safefile_target(o->joblog, "--joblog", &f->log_t, why);
  if (rc) {
    if (!why->len) mr_buf_puts(why, mr_strerror(rc)); /* out of memory */
    return rc;
  }
  if (o->resume && f->out_t.kind != SAFEFILE_FILE && !o->joblog) {
    mr_buf_printf(why, "--resume needs -o FILE (its journal) or --joblog FILE; "
                       "'%s' is not a regular file", o->output);
    return MR_EINVAL;
  }
  if (f->out_t.kind == SAFEFILE_FILE) {
    for (int k = 0; k < 2; k++) {
      mr_buf path = {0};
      derived_path(f, k, &path);
      const char *bad = safefile_foreign(path.data);
      if (bad) mr_buf_printf(why, "'%s' %s: not ours to continue or replace; "
                                  "remove it to run", path.data, bad);
      mr_buf_free(&path);
      if (bad) return MR_EINVAL;
    }
  }
  return files_roles(o, f, why);
}

static uint64_t file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static int is_regular_file(const char *path) {
  struct stat st;
  return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Leaves the output's partial file and journal as the run found them
 * (removed when it made them). */
static void files_rollback(files *f) {
  if (f->journal && f->out) journal_rollback(f->journal, output_temp(f->out));
}

/* Opens the input, the output and whatever a resume continues. */
static int files_open(const run *r, files *f, job_desc *jd, mr_buf *why) {
  const opts *o = &r->o;
  int err = 0, rc = 0;
  if (!(f->in = input_open(o->input, o->max_line, &err))) {
    mr_buf_printf(why, "cannot read '%s': %s", o->input ? o->input : "-", strerror(err));
    return MR_EIO;
  }
  input_watch(f->in, &stop_requested);
  if ((rc = files_resolve(o, f, why)) != 0) return rc;
  mr_buf spec = {0};
  job_spec(o, &spec);
  int journaled = f->out_t.kind == SAFEFILE_FILE;
  const char *target = f->out_t.path; /* the file itself, past its symlinks */
  const char *joblog = f->log_t.path ? f->log_t.path : o->joblog;
  uint64_t keep = UINT64_MAX;
  if (journaled) {
    mr_buf part = {0};
    mr_buf_printf(&part, "%s.partial", target);
    struct stat st;
    if (o->resume) {
      rc = journal_load(target, spec.data, file_size(part.data), &f->journal, why);
      if (f->journal) keep = journal_out_size(f->journal);
    } else if (lstat(part.data, &st) == 0) {
      mr_buf_printf(why, "%s holds an unfinished run: add --resume to continue "
                         "it, or remove %s and %s.journal to start over",
                    part.data, part.data, target);
      rc = MR_EINVAL;
    }
    mr_buf_free(&part);
  }
  if (!rc && o->joblog && o->resume && !f->journal) {
    size_t n = 0;
    rc = joblog_load(joblog, &f->joblog_recs, &n, why);
    if (!rc && n) {
      rc = doneset_build(&f->joblog_done, f->joblog_recs, n);
      f->done = &f->joblog_done;
      f->done_by_command = 1;
    }
  }
  if (!rc && f->journal) f->done = journal_done(f->journal);
  if (!rc && f->done && o->resume == 1) f->failed_before = doneset_failed(f->done);
  /* the joblog says what ran, but -o FILE has no journal: the run finished
   * and renamed its results into place, and whatever the joblog lacks
   * cannot be added to them in order */
  f->finished = f->done && !f->journal && journaled && is_regular_file(o->output);
  if (!rc && f->done && is_regular_file(o->input)) {
    /* a file can be checked whole before anything runs (a stream is
     * checked as it is read: reading it here would use it up) */
    mr__src check = {0};
    check.in = input_open(o->input, o->max_line, &err);
    if (check.in) input_watch(check.in, &stop_requested);
    check.done = f->done;
    check.check_text = f->done_by_command ? describe : NULL;
    check.check_ctx = jd;
    check.finished_output = f->finished ? o->output : NULL;
    rc = check.in ? src_verify(&check) : MR_EIO;
    if (rc) mr_buf_append(why, check.why.data ? check.why.data : "", check.why.len);
    input_free(check.in);
    src_free(&check);
  }
  if (!rc && !(f->out = output_open(journaled ? target : o->output, journaled, keep, &err))) {
    mr_buf_printf(why, "cannot write '%s': %s", o->output, strerror(err));
    rc = MR_EIO;
  }
  if (!rc && journaled) {
    rc = f->journal ? journal_resume(f->journal)
                    : journal_start(target, spec.data, &f->journal);
    if (rc) {
      mr_buf_printf(why, "cannot write '%s.journal': %s", target, strerror(errno));
      if (!f->journal) unlink(output_temp(f->out)); /* made just now, empty */
    }
  }
  if (!rc && o->joblog && joblog_open(joblog, o->resume != 0, &f->joblog)) {
    mr_buf_printf(why, "cannot write '%s': %s", o->joblog, strerror(errno));
    rc = MR_EIO;
  }
  if (rc) files_rollback(f); /* a failed start leaves nothing to refuse the next */
  mr_buf_free(&spec);
  return rc;
}

static void files_close(files *f) {
  input_free(f->in);
  output_free(f->out);
  journal_free(f->journal);
  joblog_free(f->joblog);
  doneset_free(&f->joblog_done);
  free(f->joblog_recs);
  safefile_target_free(&f->out_t);
  safefile_target_free(&f->log_t);
}

/* Puts the output in place after a run that did everything. */
static int files_complete(const run *r, files *f) {
  if (!f->journal) return output_commit(f->out);
  if (f->finished) { /* nothing ran: the finished FILE stays as it is */
    output_keep(f->out);
    files_rollback(f);
    return 0;
  }
  if (output_keep(f->out)) return MR_EIO;
  return journal_complete(f->journal, output_temp(f->out), f->out_t.path, r->o.unordered);
}

/* ---------------------------------------------------------------- main */

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
    if (r.rank == 0) stdout_direct();
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
  if (!rc && job && r.o.arg && r.rank == 0)
    rc = job_check_arg(job, plugin != NULL, r.o.arg, &why);
  job_desc jd = {job, exec};
  files f;
  memset(&f, 0, sizeof f);
  if (r.rank == 0 && !rc) rc = files_open(&r, &f, &jd, &why);
  int started = rc == 0;
  if (rc && stop_requested) { /* an open of a FIFO, or a resume's check */
    why.len = 0;
    mr_buf_printf(&why, "stopped by signal %d before the run began", (int)stop_requested);
  }
  rc = agree(&r, rc, why.data);
  char **hosts = r.o.joblog && !rc ? gather_hosts(&r) : NULL;
  if (rc) {
    if (started) files_rollback(&f); /* another rank failed to start */
    files_close(&f);
    job_unload(plugin);
    exec_free(exec);
    mr_buf_free(&why);
    return finish(&r, stop_requested ? 128 + (int)stop_requested : EXIT_FATAL);
  }

  mr__textjob tj = {job, exec, r.o.arg, r.o.raw, &stop_requested};
  mr__kernel text_kernel = textjob_kernel(&tj);
  mr__isolate iso = {&text_kernel};
  mr__kernel iso_kernel = isolate_kernel(&iso);
  int isolated = r.o.isolate && !exec; /* commands are isolated already */
  if (!isolated && !exec) crash_notes_setup(r.mpi ? r.rank : -1);
  mr__farm_cfg cfg = {0};
  cfg.chunksize = r.o.chunksize;
  cfg.threads = r.o.threads;
  cfg.unordered = r.o.unordered;
  cfg.master_compute = r.o.master_compute;
  cfg.work_flags = r.o.joblog || r.o.timeout_pct > 0 ? MR__WORK_TIMES : 0;
  if (r.o.halt.when == MR__HALT_NOW) { /* stop at the failing item */
    cfg.work_flags |= MR__WORK_STOP_AT_FAIL;
    cfg.halt_now_fail_n = r.o.halt.fail_n;
  }
  cfg.stop = &stop_requested;
  cfg.retries = r.o.retries;
  cfg.timeout_s = r.o.timeout_s;
  cfg.timeout_pct = r.o.timeout_pct;

  mr__src sc = {0};
  sc.in = f.in;
  sc.done = f.done;
  sc.rerun_failed = r.o.resume == 2;
  sc.check_text = f.done_by_command ? describe : NULL;
  sc.check_ctx = &jd;
  sc.finished_output = f.finished ? r.o.output : NULL;
  mr__source src = src_source(&sc);
  mr__textsink ts = {0};
  ts.out = f.out;
  ts.errs = stderr;
  ts.input_name = f.in ? input_name(f.in) : "-";
  ts.max_line = r.o.max_line;
  ts.journal = f.journal;
  ts.joblog = f.joblog;
  ts.joblog_name = r.o.joblog;
  ts.hosts = (const char *const *)hosts;
  ts.describe = describe;
  ts.describe_ctx = &jd;
  ts.halt = r.o.halt;
  mr__sink sink = textsink_sink(&ts);
  mr__farm_stats st;
  memset(&st, 0, sizeof st);

  double cpu0 = affinity_cpu_seconds();
  rc = mr__farm_run(r.comm, &cfg, isolated ? &iso_kernel : &text_kernel,
                    r.rank == 0 ? &src : NULL, r.rank == 0 ? &sink : NULL, &st);

  int status = 0;
  if (r.rank == 0) {
    int out_err = f.out ? output_errno(f.out) : 0;
    if (out_err == EPIPE && !r.mpi) {
      /* the reader went away (| head): end quietly, as cat would */
      fflush(stderr);
      signal(SIGPIPE, SIG_DFL);
      raise(SIGPIPE);
      _exit(141);
    }
    if (out_err == EPIPE) {
      /* under mpirun the workers have stopped with the farm; every rank
       * ends as usual, and mpirun with the status cat would have */
      status = 141;
      goto done;
    }
    uint64_t failed = ts.failed + f.failed_before;
    if (rc == 0 && textsink_sync(&ts)) { /* the last joblog lines */
      rc = MR_EIO;
      out_err = ts.failed_file ? 0 : output_errno(f.out);
    }
    if (rc == 0) {
      if (files_complete(&r, &f)) {
        say(&r, "cannot write '%s': %s", output_name(f.out), strerror(errno));
        rc = MR_EIO;
      }
    } else if (out_err) {
      say(&r, "cannot write '%s': %s", output_name(f.out), strerror(out_err));
    } else if (ts.failed_file) {
      say(&r, "cannot write '%s': %s", ts.failed_file, strerror(ts.failed_errno));
    } else if (rc != MR_EINTR) {
      if (sc.why.len) say(&r, "%s", sc.why.data);
      else say(&r, "run failed: %s", mr_strerror(rc));
    }
    if (rc) { /* keep every finished result for a resume */
      if (f.journal) output_keep(f.out);
      textsink_sync(&ts); /* the output, then the records that describe it */
      if (rc == MR_EINVAL && sc.why.len) {
        /* a resume refused part-way through a stream: what this run did
         * was done to another input, and is no part of the one resumed */
        files_rollback(&f);
        if (f.joblog) joblog_rollback(f.joblog);
      }
    }
    if (r.o.stats) print_stats(&r, &st, &ts);
    if (rc == 0) binding_note(&r, &st, cpu0);
    if (rc == MR_EINTR) {
      const char *where = f.journal ? output_temp(f.out) : NULL;
      char by[32] = ": mpirun is ending the job";
      if (!stop_by_launcher) snprintf(by, sizeof by, " by signal %d", (int)stop_requested);
      if (stop_requested)
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
    status = rc == MR_EINTR && stop_requested ? 128 + (int)stop_requested
             : rc && rc != MR_EINTR           ? EXIT_FATAL
                                              : exit_status(failed);
  }
done:
  files_close(&f);
  hosts_free(hosts);
  textsink_free(&ts);
  src_free(&sc);
  if (st.stuck && r.mpi) {
    fflush(NULL);
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
  job_unload(plugin);
  exec_free(exec);
  mr_buf_free(&why);
  return finish(&r, status);
}
