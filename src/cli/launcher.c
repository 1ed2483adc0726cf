/* launcher.c: the launcher's standard output, reached directly. */
#include "cli/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
