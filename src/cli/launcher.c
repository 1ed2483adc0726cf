/* launcher.c: the launcher's standard output, reached directly. */
#include "cli/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Options that make mpirun change what a rank prints on its way out: with
 * them, the forwarded stream is what the user asked for. */
static const char *const rewrites[] = {
    "OMPI_MCA_orte_tag_output", "OMPI_MCA_orte_timestamp_output",
    "OMPI_MCA_orte_output_filename", "OMPI_MCA_orte_xml_output", NULL};

static int parent_is_mpirun(pid_t pp) {
  char path[64], name[32] = "";
  snprintf(path, sizeof path, "/proc/%ld/comm", (long)pp);
  FILE *f = fopen(path, "re");
  if (!f) return 0;
  int ok = fgets(name, sizeof name, f) != NULL;
  fclose(f);
  if (!ok) return 0;
  name[strcspn(name, "\n")] = '\0';
  /* not orted: a rank on another host than mpirun cannot reach its output */
  return !strcmp(name, "mpirun") || !strcmp(name, "mpiexec") || !strcmp(name, "orterun");
}

/* The parent's descriptor itself: the same open file, offset and flags. */
static int take_fd(pid_t pp, int target) {
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
  int pidfd = (int)syscall(SYS_pidfd_open, pp, 0);
  if (pidfd < 0) return -1;
  int fd = (int)syscall(SYS_pidfd_getfd, pidfd, target, 0);
  close(pidfd);
  return fd; /* the kernel sets FD_CLOEXEC on it */
#else
  (void)pp;
  (void)target;
  return -1;
#endif
}

/* Older kernels: the parent's /proc entry opens the same pipe, terminal or
 * device. Not a regular file: that would be a second open file with its
 * own offset, writing over what others put there. */
static int reopen_fd(pid_t pp, int target) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/fd/%d", (long)pp, target);
  struct stat st;
  if (stat(path, &st) != 0 || S_ISREG(st.st_mode)) return -1;
  return open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
}

long mr__launcher_mpirun(void) {
  if (!getenv("OMPI_COMM_WORLD_SIZE")) return -1;
  pid_t pp = getppid();
  return parent_is_mpirun(pp) ? (long)pp : -1;
}

int mr__launcher_stream(int target) {
  if (!getenv("OMPI_COMM_WORLD_SIZE") || getenv("MAPREDUCE_FORWARDED_STDOUT"))
    return -1;
  for (const char *const *v = rewrites; *v; v++)
    if (getenv(*v)) return -1;
  pid_t pp = getppid();
  if (!parent_is_mpirun(pp)) return -1;
  int fd = take_fd(pp, target);
  if (fd < 0) fd = reopen_fd(pp, target);
  return fd;
}

/* Makes target the launcher's own stream: 1 when it did. */
static int direct(int target, FILE *f) {
  int fd = mr__launcher_stream(target);
  if (fd < 0) return 0;
  fflush(f);
  /* the forwarded stream stays open, unused: once a rank's last hold on its
   * output closes, mpirun takes the rank as finished with its streams and
   * stops passing it standard input (a silent pipe would read as ended) */
  if (fcntl(target, F_DUPFD_CLOEXEC, 3) < 0) {
    close(fd);
    return 0;
  }
  int moved = dup2(fd, target) >= 0; /* else the forwarded stream */
  close(fd);
  /* mpirun puts each rank in a process group of its own: on mpirun's
   * terminal with 'stty tostop' a write would stop the rank (SIGTTOU);
   * ignored, the write goes through, as mpirun's own would */
  if (moved && isatty(target)) signal(SIGTTOU, SIG_IGN);
  return moved;
}

int mr__launcher_stdout_direct(void) {
  /* messages too: mpirun ending the job on a signal may exit before it
   * copies what rank 0 last wrote, which is what says the run stopped and
   * how to continue it */
  direct(STDERR_FILENO, stderr);
  return direct(STDOUT_FILENO, stdout);
}

int mr__launcher_stderr_tty(void) {
  if (!getenv("OMPI_COMM_WORLD_SIZE")) return isatty(STDERR_FILENO);
  /* a rank's own stderr is a pseudo-terminal whatever mpirun's is: ask
   * what mpirun's descriptor 2 is (rank 0 writes there directly, or
   * through mpirun's copying, which passes the bytes as they are) */
  long pp = mr__launcher_mpirun();
  if (pp < 0) return 0; /* another host's daemon: plain lines suit a log and a terminal */
  char path[64], to[256];
  snprintf(path, sizeof path, "/proc/%ld/fd/2", pp);
  ssize_t n = readlink(path, to, sizeof to - 1);
  if (n <= 0) return 0;
  to[n] = '\0';
  return !strncmp(to, "/dev/pts/", 9) || !strncmp(to, "/dev/tty", 8);
}

/* ------------------------------------------------------ a non-zero exit */

/* Open MPI 4's daemon ends a job whose rank exited non-zero by sending
 * SIGCONT to the ranks it still counts alive, sleep(1), SIGTERM, sleep(1),
 * SIGKILL (odls_base_sigkill_timeout). The rank that exited is always one
 * of them (it is counted alive until a step that a non-zero exit skips),
 * so every status but 0 (124 at --deadline, 1-101, 143, 255) reached the
 * user 2 s late, unless a signal cut the sleeps short: sleep() then
 * returns the whole seconds left, 0. Another rank's exit does that by
 * chance (never when the rank with the status exits last); a helper that
 * sends the daemon SIGCHLD, which it takes for a child's exit and answers
 * by reaping none, does it every time. Rank 0's exit only: it holds the
 * results, and once it has ended nothing is lost by ending the job at
 * once; a worker that exits with a status (a stop's last resort) while
 * rank 0 still writes leaves rank 0 the grace of those sleeps. */
#define HURRY_TICK_MS 10
#define HURRY_FOR_MS 10000 /* 2 x a sigkill_timeout of 1 s, with room to spare */
#define WRAPPER_DEPTH 3   /* a shell script between the daemon and us */

static const char *const daemons[] = {"mpirun", "mpiexec", "orterun", "orted", NULL};
static long daemon_pid = -1;
static int fd_limit = 1024;
static volatile sig_atomic_t hurried;

/* The parent and the command name of process pid (from /proc): 0 or -1. */
static int proc_parent(long pid, long *ppid, char *comm, size_t n) {
  char path[64], line[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  int ok = fgets(line, sizeof line, f) != NULL;
  fclose(f);
  char *open = ok ? strchr(line, '(') : NULL, *shut = ok ? strrchr(line, ')') : NULL;
  if (!open || !shut || shut < open) return -1;
  size_t len = (size_t)(shut - open - 1);
  if (len >= n) len = n - 1;
  memcpy(comm, open + 1, len);
  comm[len] = '\0';
  char state;
  return sscanf(shut + 1, " %c %ld", &state, ppid) == 2 ? 0 : -1;
}

void mr__launcher_find_daemon(int rank) {
  daemon_pid = -1;
  /* Open MPI 4's runtime (ORTE) only: not srun, nor PRRTE's daemons */
  if (rank != 0 || !getenv("OMPI_MCA_orte_local_daemon_uri")) return;
  long pid = (long)getppid();
  for (int up = 0; up <= WRAPPER_DEPTH && pid > 1; up++) {
    long parent;
    char comm[32];
    if (proc_parent(pid, &parent, comm, sizeof comm)) return;
    for (const char *const *d = daemons; *d; d++)
      if (!strcmp(comm, *d)) {
        daemon_pid = pid;
        long max = sysconf(_SC_OPEN_MAX);
        fd_limit = max > 0 && max < 65536 ? (int)max : 65536;
        return;
      }
    pid = parent;
  }
}

/* The helper: holds nothing of ours (an open copy of our output would keep
 * mpirun waiting for its end; our directory keeps it out of a search for
 * our processes), in a session of its own (a kill of our process group is
 * not for it); ends when the daemon has ended, 10 s at the most. Only
 * async-signal-safe calls: it is forked from a signal handler too. */
static void hurry(pid_t daemon) {
  (void)setsid();
  if (chdir("/")) { /* stays where it was: nothing lost */
  }
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 0u, ~0u, 0u) != 0)
#endif
    for (int fd = 0; fd < fd_limit; fd++) close(fd);
  int pidfd = -1;
#ifdef SYS_pidfd_open
  pidfd = (int)syscall(SYS_pidfd_open, daemon, 0);
#endif
  struct timespec tick = {0, HURRY_TICK_MS * 1000000L};
  for (int t = 0; t < HURRY_FOR_MS / HURRY_TICK_MS; t++) {
    if (kill(daemon, SIGCHLD) != 0) break; /* it has ended */
    if (pidfd >= 0) {
      struct pollfd p = {pidfd, POLLIN, 0};
      if (poll(&p, 1, HURRY_TICK_MS) > 0) break;
    } else {
      nanosleep(&tick, NULL);
    }
  }
  _exit(0);
}

void mr__launcher_hurry_exit(int status) {
  if (!status || daemon_pid <= 0 || hurried) return;
  hurried = 1;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  pid_t pid = _Fork(); /* async-signal-safe: no fork handlers (MPI's) run */
#else
  pid_t pid = fork();
#endif
  if (pid == 0) hurry((pid_t)daemon_pid);
  /* the caller exits; without a helper the status only comes later */
}
