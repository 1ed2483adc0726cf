/* test_signals.c: how a stop is taken (the first signal, the same one
 * again, an impatient second one), the last resorts, mpirun's SIGCONT, and
 * the crash note. Every case runs in a forked child: the handlers end the
 * process, and the stop flag is the process's own. */
#include "tu.h"

#include <poll.h>
#include <sys/wait.h>

#include "base/idle.h"
#include "cli/signals.h"
#include "farm/chunk.h"

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

/* Starts fn in a child whose stderr goes to *err (a pipe, when err is
 * not NULL); the child ends with fn's return value. */
static pid_t child(int (*fn)(void), int *err) {
  int p[2] = {-1, -1};
  if (err) assert_int_equal(pipe(p), 0);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (err) {
      dup2(p[1], 2);
      close(p[0]);
      close(p[1]);
    }
    /* cmocka's own handlers are no part of the program */
    int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) signal(sigs[i], SIG_DFL);
    _exit(fn());
  }
  if (err) {
    close(p[1]);
    *err = p[0];
  }
  return pid;
}

static int wait_for(pid_t pid) {
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return status;
}

/* The child ended with exit(code), or was ended by signal sig. */
static void assert_exited(pid_t pid, int code) {
  int status = wait_for(pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), code);
}

static void assert_killed(pid_t pid, int sig) {
  int status = wait_for(pid);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), sig);
}

/* All a pipe holds until its writer ends, NUL-terminated (caller frees). */
static char *read_all(int fd) {
  mr_buf b = {0};
  char chunk[512];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof chunk)) > 0) mr_buf_append(&b, chunk, (size_t)n);
  close(fd);
  mr_buf_reserve(&b, 1);
  b.data[b.len] = '\0';
  return b.data;
}

static int first_then_same_then_other(void) {
  mr__signals_setup();
  volatile sig_atomic_t *stop = mr__signals_stop_flag();
  if (*stop) return 2;
  raise(SIGTERM);
  if (*stop != SIGTERM) return 3;
  raise(SIGTERM); /* within 100 ms: the same request (timeout(1), a group kill) */
  if (*stop != SIGTERM || mr__signals_stopped_by_launcher()) return 4;
  raise(SIGINT); /* another signal: give up at once */
  return 5;
}

static void test_first_signal_stops_second_ends(void **st) {
  (void)st;
  assert_killed(child(first_then_same_then_other, NULL), SIGINT);
}

static int same_signal_later(void) {
  mr__signals_setup();
  raise(SIGUSR1);
  if (*mr__signals_stop_flag() != SIGUSR1) return 2;
  nap_ms(150); /* past the 100 ms of one request: an impatient second one */
  raise(SIGUSR1);
  return 3;
}

static void test_same_signal_later_ends(void **st) {
  (void)st;
  assert_killed(child(same_signal_later, NULL), SIGUSR1);
}

static int stop_never_ends(void) {
  mr__signals_setup();
  raise(SIGTERM);
  nap_ms(6000); /* an item that does not return */
  return 2;
}

static void test_overdue_stop_exits(void **st) {
  (void)st;
  int err;
  pid_t pid = child(stop_never_ends, &err);
  char *text = read_all(err);
  assert_exited(pid, 128 + SIGTERM);
  assert_string_equal(text, "mapreduce: stopped, but the run did not end within 3 s of the stop (an "
                            "item or a write that does not return); exiting (continue "
                            "with --resume)\n");
  free(text);
}

static int exit_soon_after_stop(void) {
  mr__signals_setup();
  raise(SIGINT);
  mr__signals_exit_soon(0);
  nap_ms(2000); /* MPI_Finalize waiting for mpirun */
  return 2;
}

static int exit_soon_with_status(void) {
  mr__signals_setup();
  raise(SIGINT);
  mr__signals_exit_soon(7);
  nap_ms(2000);
  return 2;
}

static void test_exit_soon(void **st) {
  (void)st;
  uint64_t t0 = mr__now_ns();
  assert_exited(child(exit_soon_after_stop, NULL), 128 + SIGINT);
  assert_true(mr__now_ns() - t0 < 1500000000u);
  assert_exited(child(exit_soon_with_status, NULL), 7);
}

static int setup_ignores_sigpipe(void) {
  mr__signals_setup();
  struct sigaction sa;
  sigaction(SIGPIPE, NULL, &sa);
  if (sa.sa_handler != SIG_IGN) return 2;
  raise(SIGPIPE);
  return *mr__signals_stop_flag() == 0 ? 0 : 3;
}

static void test_sigpipe_ignored(void **st) {
  (void)st;
  assert_exited(child(setup_ignores_sigpipe, NULL), 0);
}

/* ----------------------------------------------- mpirun's SIGCONT */

static int ready_fd = -1; /* the child writes a byte here once set up */

/* As a rank under mpirun, whose parent (here the test) is its daemon:
 * waits up to wait_ms for a stop; 0 if it came from the launcher, 1 if
 * none came, 2 if another one did. */
static int rank_waiting(long wait_ms) {
  setenv("OMPI_MCA_orte_local_daemon_uri", "fake", 1);
  mr__signals_setup();
  if (write(ready_fd, "r", 1) != 1) return 9;
  for (long t = 0; t < wait_ms && !*mr__signals_stop_flag(); t += 10) nap_ms(10);
  if (!*mr__signals_stop_flag()) return 1;
  return *mr__signals_stop_flag() == SIGTERM && mr__signals_stopped_by_launcher() ? 0 : 2;
}
static int rank_waiting_1s(void) { return rank_waiting(1000); }
static int rank_waiting_2s(void) { return rank_waiting(2000); }

static int rank_sends_itself_sigcont(void) {
  setenv("OMPI_MCA_orte_local_daemon_uri", "fake", 1);
  mr__signals_setup();
  raise(SIGCONT); /* not from the parent: nothing */
  nap_ms(100);
  return *mr__signals_stop_flag() ? 2 : 0;
}


static pid_t rank_started_err(int (*fn)(void), int *err) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  ready_fd = p[1];
  pid_t pid = child(fn, err);
  close(p[1]);
  char c;
  assert_int_equal(read(p[0], &c, 1), 1);
  close(p[0]);
  return pid;
}

static pid_t rank_started(int (*fn)(void)) { return rank_started_err(fn, NULL); }

static void test_launcher_sigcont_is_a_stop(void **st) {
  (void)st;
  pid_t pid = rank_started(rank_waiting_1s);
  nap_ms(100);
  kill(pid, SIGCONT);
  assert_exited(pid, 0);
}

/* scancel, or a kill of mpirun and the ranks: mpirun's SIGCONT and the
 * SIGTERM of the same request, from another process, arrive together; the
 * rank drains (it used to take the SIGTERM for a second one and die at
 * once, silently) */
static void test_launcher_sigcont_then_sigterm_is_one_stop(void **st) {
  (void)st;
  pid_t pid = rank_started(rank_waiting_1s);
  nap_ms(100);
  kill(pid, SIGCONT);
  pid_t other = fork(); /* not the rank's parent: not mpirun */
  if (other == 0) _exit(kill(pid, SIGTERM) ? 1 : 0);
  assert_exited(other, 0);
  assert_exited(pid, 0);
}

/* mpirun ends a job with SIGCONT, SIGTERM a second later, SIGKILL a
 * second after that. A rank whose drain takes longer than a second (a
 * loaded machine) used to die of the SIGTERM at once, as of a second
 * request, and rank 0 said nothing; the line is now said at the SIGCONT,
 * and the SIGTERM lets the drain go on. */
static int rank_draining(void) {
  setenv("OMPI_MCA_orte_local_daemon_uri", "fake", 1);
  mr__signals_setup();
  mr__signals_launcher_line("mapreduce: stopped: mpirun is ending the job");
  if (write(ready_fd, "r", 1) != 1) return 9;
  for (long t = 0; t < 2000 && !*mr__signals_stop_flag(); t += 10) nap_ms(10);
  if (!*mr__signals_stop_flag()) return 1;
  nap_ms(1500); /* a drain slower than mpirun's second */
  return mr__signals_stopped_by_launcher() && mr__signals_launcher_line_said() ? 0 : 2;
}


static size_t read_some(int fd, char *buf, size_t cap) {
  struct pollfd pf = {fd, POLLIN, 0};
  size_t n = 0;
  while (n < cap - 1 && poll(&pf, 1, 0) > 0) {
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  return n;
}

static void test_launcher_end_lets_a_slow_drain_finish(void **st) {
  (void)st;
  int err;
  pid_t pid = rank_started_err(rank_draining, &err);
  nap_ms(100);
  kill(pid, SIGCONT);
  nap_ms(300);
  char buf[512];
  read_some(err, buf, sizeof buf); /* said at once, not after the drain */
  assert_string_equal(buf, "mapreduce: stopped: mpirun is ending the job\n");
  nap_ms(700);
  kill(pid, SIGTERM); /* mpirun's second step */
  assert_exited(pid, 0);
  read_some(err, buf, sizeof buf);
  assert_string_equal(buf, ""); /* once */
  close(err);
}

/* The heartbeat may be stale on a loaded machine and the SIGCONT missed:
 * mpirun's SIGTERM is then the first word of the end, and says so. */
static void test_launcher_sigterm_alone_is_its_end(void **st) {
  (void)st;
  int err;
  pid_t pid = rank_started_err(rank_draining, &err);
  nap_ms(100);
  kill(pid, SIGTERM);
  assert_exited(pid, 0);
  char buf[512];
  read_some(err, buf, sizeof buf);
  assert_string_equal(buf, "mapreduce: stopped: mpirun is ending the job\n");
  close(err);
}

static void test_sigcont_resuming_a_stopped_rank_is_not(void **st) {
  (void)st;
  pid_t pid = rank_started(rank_waiting_2s);
  nap_ms(100);
  kill(pid, SIGSTOP); /* Ctrl-Z, Slurm's suspend */
  nap_ms(700);
  kill(pid, SIGCONT);
  assert_exited(pid, 1); /* no stop */
}

static void test_sigcont_from_elsewhere_is_not(void **st) {
  (void)st;
  assert_exited(child(rank_sends_itself_sigcont, NULL), 0);
}

static int no_launcher_no_watch(void) {
  unsetenv("OMPI_MCA_orte_local_daemon_uri");
  mr__signals_setup();
  if (write(ready_fd, "r", 1) != 1) return 9;
  nap_ms(500);
  return *mr__signals_stop_flag() ? 2 : 0;
}

static void test_sigcont_without_mpirun_is_not(void **st) {
  (void)st;
  pid_t pid = rank_started(no_launcher_no_watch);
  nap_ms(100);
  kill(pid, SIGCONT);
  assert_exited(pid, 0);
}

/* ------------------------------------------------------ crash notes */

static const char *crash_item;
static int crash_rank;

static int crash_on_item(void) {
  mr__crash_notes_setup(crash_rank);
  if (crash_item) {
    mr__now_computing.len = strlen(crash_item);
    mr__now_computing.seq = 41;
    mr__now_computing.text = crash_item;
  }
  raise(SIGSEGV);
  return 2;
}

static char *crash_note(const char *item, int rank) {
  crash_item = item;
  crash_rank = rank;
  int err;
  pid_t pid = child(crash_on_item, &err);
  char *text = read_all(err);
  assert_killed(pid, SIGSEGV); /* the handler that was there ends it */
  return text;
}

static void test_crash_note_names_the_item(void **st) {
  (void)st;
  char *text = crash_note("7\tx", 2);
  assert_string_equal(text, "mapreduce: rank 2: the job crashed (signal 11) on item 42 "
                            "'7?x'; --isolate makes a crash fail only its item\n");
  free(text);
  text = crash_note("5", -1); /* alone: no rank to name */
  assert_string_equal(text, "mapreduce: the job crashed (signal 11) on item 42 '5'; "
                            "--isolate makes a crash fail only its item\n");
  free(text);
  char long_item[100];
  memset(long_item, 'a', 99);
  long_item[99] = '\0';
  text = crash_note(long_item, 0);
  assert_non_null(strstr(text, " on item 42 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'"));
  free(text);
  text = crash_note(NULL, 0); /* between items: nothing to say */
  assert_string_equal(text, "");
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_first_signal_stops_second_ends),
      cmocka_unit_test(test_same_signal_later_ends),
      cmocka_unit_test(test_overdue_stop_exits),
      cmocka_unit_test(test_exit_soon),
      cmocka_unit_test(test_sigpipe_ignored),
      cmocka_unit_test(test_launcher_sigcont_is_a_stop),
      cmocka_unit_test(test_launcher_sigcont_then_sigterm_is_one_stop),
      cmocka_unit_test(test_launcher_end_lets_a_slow_drain_finish),
      cmocka_unit_test(test_launcher_sigterm_alone_is_its_end),
      cmocka_unit_test(test_sigcont_resuming_a_stopped_rank_is_not),
      cmocka_unit_test(test_sigcont_from_elsewhere_is_not),
      cmocka_unit_test(test_sigcont_without_mpirun_is_not),
      cmocka_unit_test(test_crash_note_names_the_item),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
