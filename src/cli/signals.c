/* signals.c: the stop of a run and its last resorts, and crash notes.
 * Only async-signal-safe calls in the handlers. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/idle.h"
#include "cli/launcher.h"
#include "cli/signals.h"
#include "farm/chunk.h"
#include "run/job.h"

static volatile sig_atomic_t stop_requested;

/* 128 + the signal, or MR__EXIT_TIME for a stop by --deadline. */
static int stop_status(int stop) { return stop == MR__STOP_TIME ? MR__EXIT_TIME : 128 + stop; }

/* ------------------------------------------------------------- signals */

/* timeout(1), and a kill of a process group that holds both mpirun and
 * the ranks, deliver one signal twice within microseconds: the same signal
 * again this soon is the same request, not the impatient second one. */
#define SAME_REQUEST_NS 100000000LL
static atomic_llong stop_at_ns;

/* The last resort of a stop. Commands, --isolate's children and jobs that
 * look at mr_stopping end at once, and a master thread stuck in an item is
 * left behind (mr__pool_stop); but the master computes the shortest chunks in
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
  int status = stop_status((int)stop_requested);
  mr__launcher_hurry_exit(status);
  _exit(status);
}

/* Under mpirun (watch_launcher): rank 0's line for a stop by mpirun, which
 * kills the rank two seconds after it began (a second on a loaded machine,
 * where the SIGCONT may go unnoticed): said at once, as the stop comes, so
 * that the drain, which may not finish in time, does not have to. */
#define LAUNCHER_LINE_MAX 1024
static char launcher_line[LAUNCHER_LINE_MAX];
static size_t launcher_line_len;
static volatile sig_atomic_t launcher_line_said, watching_launcher;
static volatile sig_atomic_t stop_by_launcher;

static void launcher_stop(void) {
  stop_by_launcher = 1;
  if (launcher_line_len && !launcher_line_said) {
    launcher_line_said = 1;
    ssize_t w = write(STDERR_FILENO, launcher_line, launcher_line_len);
    (void)w;
  }
}

/* A signal from the process that started us, when that is mpirun or its
 * daemon: mpirun ending the job, never a user's signal (it passes only
 * SIGUSR1 and SIGUSR2 on). */
static int from_launcher(const siginfo_t *si) {
  return watching_launcher && si && si->si_code == SI_USER && si->si_pid == getppid();
}

static void on_stop_signal(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  long long now = (long long)mr__now_ns(); /* clock_gettime: signal-safe */
  /* mpirun's SIGTERM a second after its SIGCONT is the next step of the
   * same end, not an impatient second request: dying of it at once would
   * cut the drain short (SIGKILL comes a second later anyway) */
  if (stop_by_launcher && sig == SIGTERM && from_launcher(si)) return;
  /* after a stop for time a signal is a first request: its own status */
  if (stop_requested && stop_requested != MR__STOP_TIME) {
    if (sig == stop_requested && now - atomic_load(&stop_at_ns) < SAME_REQUEST_NS)
      return;
    signal(sig, SIG_DFL); /* a second signal: give up at once */
    raise(sig);
  }
  atomic_store(&stop_at_ns, now);
  stop_requested = sig;
  if (sig == SIGTERM && from_launcher(si)) launcher_stop();
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
  /* a SIGTERM sent with mpirun's (scancel's, or a kill of both) is the
   * same request, not a second one that gives up at once */
  atomic_store(&stop_at_ns, now);
  stop_requested = SIGTERM;
  launcher_stop();
}

/* Only where the parent is mpirun or its daemon (not under srun, which
 * sends SIGTERM itself, and not through a wrapper script). */
/* Starts fn on a detached thread that takes no signals (they stay the
 * main thread's): 0, or pthread_create's error number. */
static int quiet_thread(void *(*fn)(void *)) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t t;
  int rc = pthread_create(&t, NULL, fn, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (!rc) pthread_detach(t);
  return rc;
}

static void watch_launcher(void) {
  if (!getenv("OMPI_MCA_orte_local_daemon_uri")) return;
  watching_launcher = 1;
  if (!atomic_is_lock_free(&heartbeat_ns)) return;
  atomic_store(&heartbeat_ns, (long long)mr__now_ns());
  if (quiet_thread(heartbeat)) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigcont;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCONT, &sa, NULL);
}

void mr__signals_setup(void) {
  signal(SIGPIPE, SIG_IGN); /* a closed pipe shows as EPIPE (main.c ends as cat would) */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_stop_signal;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_flags = 0;
  sa.sa_handler = on_stop_overdue;
  sigaction(SIGALRM, &sa, NULL);
  mr__job_watch_stop(&stop_requested); /* jobs, commands, --isolate's children */
  watch_launcher();
}

volatile sig_atomic_t *mr__signals_stop_flag(void) { return &stop_requested; }

int mr__signals_stopped_by_launcher(void) { return stop_by_launcher; }

void mr__signals_launcher_line(const char *line) {
  size_t n = strlen(line);
  if (n >= LAUNCHER_LINE_MAX) n = LAUNCHER_LINE_MAX - 1;
  launcher_line_len = 0; /* not said half-written */
  memcpy(launcher_line, line, n);
  launcher_line[n] = '\n';
  launcher_line_len = n + 1;
}

int mr__signals_launcher_line_said(void) { return launcher_line_said; }

int mr__signals_stop_status(void) { return stop_status((int)stop_requested); }

/* ------------------------------------------------------------ deadline */

/* --deadline: at the cut, a thread of its own stops the run as a signal
 * would, with MR__STOP_TIME; every rank has one, so the items running
 * anywhere are cut short at once. */
static uint64_t cut_ns;
static atomic_int cut_off;

static void *deadline_timer(void *arg) {
  (void)arg;
  struct timespec at = {(time_t)(cut_ns / 1000000000u), (long)(cut_ns % 1000000000u)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {
  }
  if (!atomic_load(&cut_off) && !stop_requested) {
    stop_requested = MR__STOP_TIME;
    alarm(STOP_OVERDUE_S); /* the same last resort as a signal's */
  }
  return NULL;
}

int mr__signals_stop_at(uint64_t at_ns) {
  cut_ns = at_ns;
  atomic_store(&cut_off, 0);
  int rc = quiet_thread(deadline_timer);
  return rc ? mr__error_from_errno(rc) : 0; /* pthread_create's own errno */
}

void mr__signals_stop_at_cancel(void) { atomic_store(&cut_off, 1); }

int mr__signals_stopped_for_time(void) { return stop_requested == MR__STOP_TIME; }

static volatile sig_atomic_t exit_status_now;

static void on_finalize_timeout(int sig) {
  (void)sig;
  mr__launcher_hurry_exit(exit_status_now);
  _exit(exit_status_now);
}

void mr__signals_exit_soon(int status) {
  exit_status_now = status ? status : stop_status((int)stop_requested);
  signal(SIGALRM, on_finalize_timeout);
  struct itimerval t = {{0, 0}, {0, 300000}};
  setitimer(ITIMER_REAL, &t, NULL);
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

void mr__crash_notes_setup(int rank) {
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
