/* spawn.c: a command's process (spawn.h). */
#include "run/spawn.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TERM_WAIT_MS 200 /* a killed command's time to go quietly */

pid_t mr__spawn(const char *path, char *const argv[], int in_fd, int out_fd,
                volatile int *exec_err) {
  pid_t parent = getpid();
  pid_t pid = vfork();
  if (pid != 0) return pid;
  /* the child: only system calls until exec */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127); /* the rank died already */
  setpgid(0, 0);
  signal(SIGPIPE, SIG_DFL); /* an ignored signal would stay ignored */
  dup2(in_fd, 0);
  dup2(out_fd, 1);
  execv(path, argv);
  *exec_err = errno;
  _exit(127);
}

void mr__spawn_kill_group(pid_t pid) {
  kill(-pid, SIGTERM);
  for (int i = 0; i < TERM_WAIT_MS / 10; i++) {
    if (waitpid(pid, NULL, WNOHANG) == pid) {
      kill(-pid, SIGKILL); /* what it left behind */
      return;
    }
    struct timespec ts = {0, 10000000L};
    nanosleep(&ts, NULL);
  }
  kill(-pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}
