/* filter.c: a command fed on stdin while its stdout is read (filter.h). */
#include "run/filter.h"

#include "base/error.h"
#include "run/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_LOOK_MS 50      /* how often a quiet command's run looks at the stop */
#define REAP_NAP_MAX_NS 50000000L
#define READ_BLOCK 65536

/* Waits for the command's end, looking at the stop: 0 with *status, or
 * MR_EINTR (the command still runs). */
static int reap(pid_t pid, int *status) {
  for (long nap = 100000;;) {
    pid_t w = waitpid(pid, status, WNOHANG);
    if (w == pid) return 0;
    if (w < 0 && errno != EINTR) { /* not ours any more: nothing to say */
      *status = 0;
      return 0;
    }
    if (mr_stopping()) return MR_EINTR;
    struct timespec ts = {0, nap};
    nanosleep(&ts, NULL);
    if (nap < REAP_NAP_MAX_NS) nap *= 2;
  }
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

int mr__filter_run(const char *cmd, mr__filter_feed_fn feed, void *feed_ctx,
                   mr__filter_take_fn take, void *take_ctx, mr_buf *why) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC)) {
    int e = errno;
    mr_buf_printf(why, "'%s' cannot start: %s", cmd, strerror(e));
    return mr__error_from_errno(e);
  }
  if (pipe2(out, O_CLOEXEC)) {
    int e = errno;
    close(in[0]);
    close(in[1]);
    mr_buf_printf(why, "'%s' cannot start: %s", cmd, strerror(e));
    return mr__error_from_errno(e);
  }
  volatile int exec_err = 0;
  char *argv[] = {"sh", "-c", (char *)cmd, NULL};
  pid_t pid = mr__spawn("/bin/sh", argv, in[0], out[1], &exec_err);
  int spawn_errno = errno;
  close(in[0]);
  close(out[1]);
  int to = in[1], from = out[0];
  if (pid < 0) {
    close(to);
    close(from);
    mr_buf_printf(why, "'%s' cannot start: %s", cmd, strerror(spawn_errno));
    return mr__error_from_errno(spawn_errno);
  }
  fcntl(to, F_SETFL, fcntl(to, F_GETFL) | O_NONBLOCK);
  fcntl(from, F_SETFL, fcntl(from, F_GETFL) | O_NONBLOCK);
  mr_buf pend = {0};
  size_t at = 0;
  char rbuf[READ_BLOCK];
  int rc = 0;
  while (!rc && (to >= 0 || from >= 0)) {
    if (mr_stopping()) {
      rc = MR_EINTR;
      break;
    }
    if (to >= 0 && at == pend.len) { /* the next block of its input */
      pend.len = at = 0;
      if ((rc = feed(feed_ctx, &pend))) break;
      if (pend.len == 0) close_fd(&to); /* the input is over: EOF */
    }
    struct pollfd p[2];
    int n = 0, pf = -1, pt = -1;
    if (from >= 0) p[pf = n++] = (struct pollfd){from, POLLIN, 0};
    if (to >= 0) p[pt = n++] = (struct pollfd){to, POLLOUT, 0};
    int k = poll(p, (nfds_t)n, STOP_LOOK_MS);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      int e = errno;
      mr_buf_printf(why, "'%s': poll failed: %s", cmd, strerror(e));
      rc = mr__error_from_errno(e);
      break;
    }
    if (pt >= 0 && p[pt].revents) {
      ssize_t w = write(to, pend.data + at, pend.len - at);
      if (w > 0) {
        at += (size_t)w;
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        /* EPIPE: it closed its input (or ended) before reading all of
         * it; the rest is dropped and its exit status tells */
        close_fd(&to);
      }
    }
    if (pf >= 0 && p[pf].revents) {
      ssize_t r = read(from, rbuf, sizeof rbuf);
      if (r > 0) {
        rc = take(take_ctx, rbuf, (size_t)r);
      } else if (r == 0) {
        close_fd(&from);
      } else if (errno != EAGAIN && errno != EINTR) {
        int e = errno;
        mr_buf_printf(why, "'%s': cannot read its output: %s", cmd, strerror(e));
        rc = mr__error_from_errno(e);
      }
    }
  }
  close_fd(&to);
  close_fd(&from);
  mr_buf_free(&pend);
  int status = 0;
  if (!rc) rc = reap(pid, &status);
  if (rc) { /* stopping, or we failed: it ends now */
    mr__spawn_kill_group(pid);
    return rc;
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    mr_buf_printf(why, "'%s' was killed by signal %d (%s)", cmd, sig, strsignal(sig));
    return MR_ESIGNAL;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  if (code == 0) return 0;
  if (exec_err)
    mr_buf_printf(why, "'%s' cannot start: /bin/sh: %s", cmd, strerror(exec_err));
  else if (code == 127)
    mr_buf_printf(why, "'%s' exited with status 127 (command not found?)", cmd);
  else mr_buf_printf(why, "'%s' exited with status %d", cmd, code);
  return MR_EEXIT;
}
