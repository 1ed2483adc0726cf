/* coproc.c: --worker processes, fed batches of items (coproc.h). */
#include "run/coproc.h"
#include "run/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/idle.h"
#include "run/coline.h"
#include "run/exec.h"

/* how often a waiting thread looks at the stop (mr_stopping) */
#define STOP_LOOK_MS 50
/* one item at a time (after a worker wrote more lines than items): how
 * long a second line of the same item is waited for */
#define LOCKSTEP_GRACE_MS 2
/* a worker's end: time to leave on its own once its input closes, then
 * after SIGTERM, before SIGKILL */
#define END_WAIT_MS 1000
#define END_WAIT_STOPPING_MS 100
#define TERM_WAIT_MS 200
#define READ_SIZE 65536
/* --timeout: what a new process's first answer may take besides, for its
 * start (a Python worker's imports may take seconds) */
#define START_GRACE_S 30
/* a process whose output ended: time to exit with its own status */
#define DIED_GRACE_MS 200

struct mr__coproc {
  char *cmd;
  char *words; /* direct: the words, NUL-separated */
  char **argv;
  char *path;  /* what is executed */
  int raw;
  pthread_mutex_t mu;
  mr_buf why;  /* the first failure that ended the run here */
  uint64_t late; /* lines written after the last item, by all processes */
  /* some process of this rank has answered an item: the command works,
   * and a process that dies is an item's failure */
  _Atomic int ever;
};

static int answered_ever(mr__coproc *c) {
  return atomic_load_explicit(&c->ever, memory_order_relaxed);
}

/* ------------------------------------------------------------ command */

int mr__coproc_new(const char *cmd, int raw, mr__coproc **out, mr_buf *why) {
  *out = NULL;
  size_t n = strlen(cmd), nwords = 0;
  int shell = 0;
  for (size_t i = 0; i < n; i++)
    if (mr__exec_is_shell_char(cmd[i])) shell = 1;
  mr__coproc *c = calloc(1, sizeof *c);
  if (!c || !(c->cmd = strdup(cmd)) || !(c->words = malloc(n + 1)) ||
      !(c->argv = calloc(n / 2 + 4, sizeof *c->argv))) {
    mr__coproc_free(c);
    return MR_ENOMEM;
  }
  pthread_mutex_init(&c->mu, NULL);
  c->raw = raw;
  if (shell) {
    c->argv[0] = (char *)"/bin/sh";
    c->argv[1] = (char *)"-c";
    c->argv[2] = c->cmd;
    c->path = strdup("/bin/sh");
  } else {
    char *w = c->words;
    for (size_t i = 0; i < n;) {
      while (i < n && (cmd[i] == ' ' || cmd[i] == '\t')) i++;
      if (i == n) break;
      c->argv[nwords++] = w;
      while (i < n && cmd[i] != ' ' && cmd[i] != '\t') *w++ = cmd[i++];
      *w++ = '\0';
    }
    if (nwords == 0) {
      mr_buf_puts(why, "--worker needs a command");
      mr__coproc_free(c);
      return MR_EINVAL;
    }
    c->path = mr__exec_resolve(c->argv[0]);
    if (!c->path) {
      int there = strchr(c->argv[0], '/') && access(c->argv[0], F_OK) == 0;
      mr_buf_printf(why, "--worker: %s: %s", there ? "not executable" : "command not found",
                    c->argv[0]);
      mr__coproc_free(c);
      return there ? MR_EACCES : MR_ENOENT;
    }
  }
  if (!c->path) {
    mr__coproc_free(c);
    return MR_ENOMEM;
  }
  *out = c;
  return 0;
}

void mr__coproc_free(mr__coproc *c) {
  if (!c) return;
  if (c->argv) pthread_mutex_destroy(&c->mu);
  free(c->cmd);
  free(c->words);
  free(c->argv);
  free(c->path);
  mr_buf_free(&c->why);
  free(c);
}

int mr__coproc_failure(mr__coproc *c, mr_buf *why) {
  pthread_mutex_lock(&c->mu);
  int has = c->why.len > 0;
  if (has) mr_buf_append(why, c->why.data, c->why.len);
  pthread_mutex_unlock(&c->mu);
  return has;
}

static void set_failure(mr__coproc *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_failure(mr__coproc *c, const char *fmt, ...) {
  pthread_mutex_lock(&c->mu);
  if (!c->why.len) {
    va_list ap;
    va_start(ap, fmt);
    mr_buf_vprintf(&c->why, fmt, ap);
    va_end(ap);
  }
  pthread_mutex_unlock(&c->mu);
}

uint64_t mr__coproc_late_lines(mr__coproc *c) {
  pthread_mutex_lock(&c->mu);
  uint64_t n = c->late;
  pthread_mutex_unlock(&c->mu);
  return n;
}

void mr__coproc_describe(const char *cmd, const char *item, size_t len, mr_buf *out) {
  mr_buf_printf(out, "%s <<< ", cmd);
  int plain = len > 0;
  for (size_t i = 0; i < len && plain; i++)
    if (mr__exec_is_shell_char(item[i]) || item[i] == ' ' || item[i] == '\t') plain = 0;
  if (plain) {
    mr_buf_append(out, item, len);
    return;
  }
  mr_buf_append(out, "'", 1);
  for (size_t i = 0; i < len; i++) {
    if (item[i] == '\'') mr_buf_append(out, "'\\''", 4);
    else mr_buf_append(out, &item[i], 1);
  }
  mr_buf_append(out, "'", 1);
}

/* ------------------------------------------------------------ process */

typedef struct item_ref {
  const char *text;
  uint32_t len;
  int code; /* 0, or the mr_error of an item known bad */
} item_ref;

typedef struct co_state co_state;
static int read_some(co_state *st);

struct co_state {
  mr__coproc *c;
  pid_t pid;       /* 0: none running */
  int to, from;    /* its standard input and output; -1 when none */
  int answered;    /* this process has answered an item */
  int fed;         /* this process has been sent an item */
  int deaths;      /* processes in a row that ended without an answer */
  int last_status; /* how the last of those ended (waitpid's status) */
  mr__coline_reader rd;
  mr__coline_batch b;
  /* the chunk being answered: records, times and output, in item order */
  item_ref *items;
  uint32_t items_cap;
  uint32_t next; /* the next item to get its record */
  int timed;     /* the chunk wants times */
  mr_buf recs, times, data;
};

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Waits up to ms for the process to end by itself: 1 when it has. */
static int wait_end(pid_t pid, int ms, int *status) {
  for (int waited = 0;; waited++) {
    pid_t w = waitpid(pid, status, WNOHANG);
    if (w == pid || (w < 0 && errno != EINTR)) return 1;
    if (waited >= ms) return 0;
    sleep_ms(1);
  }
}

/* After the process's input closed: lines it writes now answer no item
 * (it was out of step); counted for mr__coproc_late_lines. */
static void late_lines(co_state *st, int ms) {
  uint64_t until = mr__now_ns() + (uint64_t)ms * 1000000u;
  size_t lines = 0;
  int r = 1;
  while (st->from >= 0 && r >= 0) {
    const char *line;
    size_t len;
    while (mr__coline_take(&st->rd, &line, &len)) lines++;
    int64_t left = (int64_t)(until - mr__now_ns());
    if (left <= 0) break;
    struct pollfd p = {st->from, POLLIN, 0};
    if (poll(&p, 1, (int)(left / 1000000) + 1) <= 0) break;
    r = read_some(st);
    if (r == MR_ENOMEM) break;
  }
  if (mr__coline_pending(&st->rd)) lines++; /* a last line without its newline */
  if (lines) {
    pthread_mutex_lock(&st->c->mu);
    st->c->late += lines;
    pthread_mutex_unlock(&st->c->mu);
  }
}

/* Ends the process. grace_ms < 0: its input closes and it has a while to
 * leave on its own, then SIGTERM, then SIGKILL (the end of a thread);
 * else SIGKILL after grace_ms (a process that already closed its output
 * is usually exiting: its own status says more than our SIGKILL). Its
 * waitpid status goes in *status. */
static void proc_end(co_state *st, int grace_ms, int *status) {
  *status = 0;
  if (st->to >= 0) close(st->to);
  st->to = -1;
  if (st->pid > 0) {
    pid_t pid = st->pid;
    int got;
    if (grace_ms < 0) {
      int ms = mr_stopping() ? END_WAIT_STOPPING_MS : END_WAIT_MS;
      late_lines(st, ms); /* a worker in step has nothing more to say */
      got = wait_end(pid, ms, status);
      if (!got) {
        kill(-pid, SIGTERM);
        got = wait_end(pid, TERM_WAIT_MS, status);
      }
    } else {
      got = grace_ms ? wait_end(pid, grace_ms, status) : 0;
    }
    kill(-pid, SIGKILL); /* what it left behind in its group, or itself */
    while (!got && waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
  }
  if (st->from >= 0) close(st->from);
  st->from = -1;
  st->pid = 0;
  if (!st->answered) {
    st->deaths++;
    st->last_status = *status;
  }
  st->answered = 0;
  mr__coline_clear(&st->rd);
}

/* Starts the thread's process: 0, or the code of the failed call (the
 * reason is kept for mr__coproc_failure). */
static int proc_start(co_state *st) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC)) return mr__error_from_errno(errno);
  if (pipe2(out, O_CLOEXEC)) {
    int e = errno;
    close(in[0]);
    close(in[1]);
    return mr__error_from_errno(e);
  }
  volatile int exec_err = 0;
  pid_t pid = mr__spawn(st->c->path, st->c->argv, in[0], out[1], &exec_err);
  int spawn_errno = errno;
  close(in[0]);
  close(out[1]);
  if (pid < 0 || exec_err) {
    close(in[1]);
    close(out[0]);
    if (pid > 0) waitpid(pid, NULL, 0);
    int e = pid < 0 ? spawn_errno : exec_err;
    set_failure(st->c, "--worker \"%s\" cannot start: %s", st->c->cmd, strerror(e));
    return mr__error_from_errno(e);
  }
  fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
  fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
  st->pid = pid;
  st->to = in[1];
  st->from = out[0];
  st->answered = st->fed = 0;
  mr__coline_clear(&st->rd);
  return 0;
}

/* ------------------------------------------------------ chunk records */

/* Adds the record of item st->next: status and the output bytes since
 * before. */
static int rec_add(co_state *st, int status, size_t before, const mr__times *t) {
  mr__rec r = {status, (uint32_t)(st->data.len - before)};
  if (mr_buf_append(&st->recs, &r, sizeof r)) return MR_ENOMEM;
  if (st->timed && mr_buf_append(&st->times, t, sizeof *t)) return MR_ENOMEM;
  st->next++;
  return 0;
}

/* Records of the items known bad before item i. */
static int rec_bad_until(co_state *st, uint32_t i, double limit) {
  mr__times t = {0, 0, 0, 0, limit};
  while (st->next < i) {
    int rc = rec_add(st, st->items[st->next].code, st->data.len, &t);
    if (rc) return rc;
  }
  return 0;
}

/* Item st->next fails with a message. */
static int rec_fail(co_state *st, int status, const mr__times *t, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int rec_fail(co_state *st, int status, const mr__times *t, const char *fmt, ...) {
  size_t before = st->data.len;
  va_list ap;
  va_start(ap, fmt);
  int rc = mr_buf_vprintf(&st->data, fmt, ap);
  va_end(ap);
  if (rc) return MR_ENOMEM;
  return rec_add(st, status, before, t);
}

/* Items from st->next on go back unrun; with first set, the first of them
 * is dropped (cut short by the stop). */
static int rec_rest(co_state *st, uint32_t n, int first, double limit) {
  mr__times t = {0, 0, 0, 0, limit};
  for (int k = 0; st->next < n; k++) {
    int rc = rec_add(st, k == 0 && first ? first : MR__NOTRUN, st->data.len, &t);
    if (rc) return rc;
  }
  return 0;
}

/* The process never answered, MR__COPROC_START_TRIES starts in a row. */
static int never_answers(co_state *st) {
  int s = st->last_status;
  const char *cmd = st->c->cmd;
  if (WIFSIGNALED(s))
    set_failure(st->c, "--worker \"%s\" never answered: killed by signal %d (%s) before its "
                "first result line, %d starts in a row", cmd, WTERMSIG(s),
                strsignal(WTERMSIG(s)), st->deaths);
  else if (WEXITSTATUS(s) == 127)
    set_failure(st->c, "--worker \"%s\" cannot start: command not found (exit status 127)", cmd);
  else
    set_failure(st->c, "--worker \"%s\" never answered: it exited with status %d before its "
                "first result line, %d starts in a row", cmd, WEXITSTATUS(s), st->deaths);
  return MR_ECRASH;
}

/* ------------------------------------------------------------- batches */

enum {
  EV_DONE,     /* every line of the batch answered */
  EV_FAILED,   /* one item failed with its process (recorded); go on */
  EV_END,      /* the chunk ends here: stop, halt (the rest recorded) */
  EV_RESYNC,   /* more lines than items: the batch's records are undone */
  EV_RETRY,    /* no process has answered yet, and this one died: again */
};

/* The run stops: the process is killed, item st->next dropped, the rest
 * handed back. */
static int batch_stopped(co_state *st, const mr__work_hdr *wh) {
  int status;
  proc_end(st, 0, &status);
  st->deaths = 0; /* not the command's fault */
  int rc = rec_rest(st, wh->n, MR__DROPPED, wh->timeout_s);
  return rc ? rc : EV_END;
}

/* Did the process die of the signal that stops the run? Slurm signals
 * every process of a job step, and the rank's own copy may land a moment
 * after the worker's. */
static int stopped_with(int status) {
  if (!WIFSIGNALED(status)) return 0;
  int sig = WTERMSIG(status);
  if (sig != SIGTERM && sig != SIGINT && sig != SIGUSR1) return 0;
  for (int i = 0; i < 50 && !mr_stopping(); i++) sleep_ms(1);
  return mr_stopping();
}

/* The process ended (or closed its output) with item st->next
 * unanswered: that item fails with how it ended. */
static int batch_died(co_state *st, const mr__work_hdr *wh, mr__times *t) {
  int status;
  uint32_t got = st->b.answered, sent = st->b.n;
  proc_end(st, DIED_GRACE_MS, &status);
  if (stopped_with(status)) {
    st->deaths = 0;
    int rc = rec_rest(st, wh->n, MR__DROPPED, wh->timeout_s);
    return rc ? rc : EV_END;
  }
  if (!answered_ever(st->c)) { /* nothing answered yet: the command, not the item? */
    if (st->deaths >= MR__COPROC_START_TRIES) return never_answers(st);
    return EV_RETRY; /* the same items to a new process */
  }
  int rc;
  if (WIFSIGNALED(status)) {
    t->signal = WTERMSIG(status);
    rc = rec_fail(st, MR_ESIGNAL, t, "the worker was killed by signal %d (%s)", t->signal,
                  strsignal(t->signal));
  } else if (WEXITSTATUS(status) != 0) {
    t->exitval = WEXITSTATUS(status);
    rc = rec_fail(st, MR_EEXIT, t, "the worker exited with status %d", t->exitval);
  } else {
    rc = rec_fail(st, MR_EEXIT, t,
                  "malformed answer: the worker ended (status 0) without answering "
                  "this item (%u line%s for %u item%s of its batch)",
                  got, got == 1 ? "" : "s", sent, sent == 1 ? "" : "s");
  }
  return rc ? rc : EV_FAILED;
}

/* Reads what is there now: 1 bytes came, 0 nothing yet, -1 end of file
 * (the process closed its output), MR_ENOMEM. */
static int read_some(co_state *st) {
  if (mr__coline_room(&st->rd, READ_SIZE)) return MR_ENOMEM;
  mr_buf *b = &st->rd.buf;
  for (;;) {
    ssize_t r = read(st->from, b->data + b->len, b->cap - b->len - 1);
    if (r > 0) {
      b->len += (size_t)r;
      b->data[b->len] = '\0';
      return 1;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return -1;
  }
}

/* Before a batch: a process that ended between chunks is replaced (0);
 * output nobody asked for is STRAY_EARLY before the process was given an
 * item (a banner: its output must be results only), else STRAY_LATE (it
 * answered some item of an earlier batch twice, too late to tell which:
 * the process is replaced). */
enum { STRAY_EARLY = 1, STRAY_LATE = 2 };
static int batch_check_idle(co_state *st) {
  if (!st->pid) return 0;
  int r = mr__coline_pending(&st->rd) ? 1 : read_some(st);
  if (r == MR_ENOMEM) return r;
  if (r == 0) return 0;
  int status, answered = st->answered, fed = st->fed;
  if (r > 0 && !fed) {
    const char *s = st->rd.buf.data + st->rd.off;
    size_t n = strcspn(s, "\n");
    set_failure(st->c, "--worker \"%s\" wrote to its standard output before it was given "
                "an item (\"%.*s\"): its standard output is for results only, one line "
                "per item (messages go to standard error)", st->c->cmd, (int)(n > 60 ? 60 : n), s);
    proc_end(st, 0, &status);
    return STRAY_EARLY;
  }
  proc_end(st, 0, &status);
  if (r > 0 && answered) {
    st->deaths = 0; /* out of step, not dead */
    return STRAY_LATE;
  }
  return 0;
}

/* Is another line of the item just answered coming (one item at a time)? */
static int extra_line(co_state *st) {
  if (mr__coline_pending(&st->rd)) return 1;
  struct pollfd p = {st->from, POLLIN, 0};
  if (poll(&p, 1, LOCKSTEP_GRACE_MS) <= 0) return 0;
  int r = read_some(st);
  return r > 0 || r == MR_ENOMEM;
}

static double ms_left(uint64_t since_ns, double limit_s) {
  return limit_s * 1e3 - (double)(mr__now_ns() - since_ns) * 1e-6;
}

/* Sends the items from st->next on (window: at most that many unanswered
 * at a time, 0 no limit) and takes their answers, until all are answered
 * or something ends the batch. Returns an EV_ or MR_ENOMEM. */
static int batch_run(co_state *st, const mr__work_hdr *wh, uint32_t window) {
  mr__coline_batch *b = &st->b;
  const int raw = st->c->raw;
  const double limit = wh->timeout_s;
  const int stop_at_fail = (wh->flags & MR__WORK_STOP_AT_FAIL) != 0;
  mr__coline_batch_reset(b);
  for (uint32_t i = st->next; i < wh->n; i++)
    if (!st->items[i].code && mr__coline_batch_add(b, i, st->items[i].text, st->items[i].len))
      return MR_ENOMEM;
  if (b->n == 0) return EV_DONE;
  /* where the batch began, to undo it when the process falls out of step */
  uint32_t next0 = st->next;
  size_t recs0 = st->recs.len, times0 = st->times.len, data0 = st->data.len;
  uint64_t last = mr__now_ns(); /* the last answer (or the start) */
  double last_wall = st->timed ? mr__wall_time() : 0;
  int in_open = 1, eof = 0;
  for (;;) {
    const char *line;
    size_t len;
    while (b->answered < b->n && mr__coline_take(&st->rd, &line, &len)) {
      uint32_t i = b->item[b->answered];
      int rc = rec_bad_until(st, i, limit);
      if (rc) return rc;
      uint64_t now = mr__now_ns();
      mr__times t = {last_wall, (double)(now - last) * 1e-9, 0, 0, limit};
      size_t before = st->data.len;
      const char *msg;
      size_t mlen;
      int status = 0;
      if (mr__coline_is_error(line, len, &msg, &mlen)) {
        status = MR_EJOB;
        rc = mlen ? mr_buf_append(&st->data, msg, mlen)
                  : mr_buf_puts(&st->data, "the worker reported a failure");
      } else {
        rc = mr__coline_result(&st->data, st->items[i].text, st->items[i].len, line, len, raw);
      }
      if (rc || rec_add(st, status, before, &t)) return MR_ENOMEM;
      b->answered++;
      if (!st->answered) atomic_store(&st->c->ever, 1);
      st->answered = 1;
      st->deaths = 0;
      last = now;
      if (st->timed) last_wall = mr__wall_time();
      if (window == 1 && extra_line(st)) {
        /* this item answered twice: it fails, and a new process (whose
         * output is in step) takes the rest */
        st->recs.len -= sizeof(mr__rec);
        if (st->timed) st->times.len -= sizeof(mr__times);
        st->data.len = before;
        st->next--;
        int status2;
        proc_end(st, 0, &status2);
        st->deaths = 0;
        rc = rec_fail(st, MR_EJOB, &t,
                      "malformed answer: the worker wrote more than one line for this "
                      "item (a result is one line)");
        return rc ? rc : EV_FAILED;
      }
      if (status && stop_at_fail) {
        /* --halt now: nothing after the failure; the process holds items
         * it was sent and will answer: a new one starts clean */
        mr__halt_failed(wh, wh->seq0 + i);
        if (b->answered < b->n && b->sent > b->end[b->answered - 1]) {
          int status2;
          proc_end(st, 0, &status2);
          st->deaths = 0;
        }
        rc = rec_rest(st, wh->n, 0, limit);
        return rc ? rc : EV_END;
      }
    }
    if (b->answered == b->n) {
      /* lines past the last item: the process is out of step somewhere in
       * this batch */
      int r = mr__coline_pending(&st->rd) ? 1 : eof ? -1 : read_some(st);
      if (r == MR_ENOMEM) return r;
      if (r > 0 && window != 1) {
        int status;
        proc_end(st, 0, &status);
        st->deaths = 0;
        st->next = next0;
        st->recs.len = recs0;
        st->times.len = times0;
        st->data.len = data0;
        return EV_RESYNC;
      }
      if (r != 0) { /* it ended after its last answer: a new one next time */
        int status;
        proc_end(st, 0, &status);
      }
      return EV_DONE;
    }
    int rc0 = rec_bad_until(st, b->item[b->answered], limit);
    if (rc0) return rc0;
    mr__times t = {last_wall, (double)(mr__now_ns() - last) * 1e-9, 0, 0, limit};
    if (eof) return batch_died(st, wh, &t);
    if (mr__halted(wh->seq0 + b->item[b->answered])) {
      int status; /* a halt elsewhere: what is unanswered is not wanted */
      proc_end(st, 0, &status);
      st->deaths = 0;
      int rc = rec_rest(st, wh->n, 0, limit);
      return rc ? rc : EV_END;
    }
    if (mr_stopping()) return batch_stopped(st, wh);
    int wait_ms = STOP_LOOK_MS;
    if (limit > 0) {
      /* a new process's start (its imports) is no item's time */
      double lim = st->answered ? limit : limit + START_GRACE_S;
      double left = ms_left(last, lim);
      if (left <= 0) {
        int status, fresh = !st->answered;
        proc_end(st, 0, &status);
        st->deaths = 0;
        t.signal = SIGKILL;
        int rc = !fresh
                     ? rec_fail(st, MR_ETIMEDOUT, &t, "timed out after %g s without an answer",
                                limit)
                     : rec_fail(st, MR_ETIMEDOUT, &t,
                                "timed out after %g s without an answer (%g s of them "
                                "allowed for the worker's start)", lim, (double)START_GRACE_S);
        return rc ? rc : EV_FAILED;
      }
      if (left < wait_ms) wait_ms = (int)left + 1;
    }
    size_t writable = in_open ? mr__coline_batch_writable(b, window) : 0;
    struct pollfd p[2] = {{st->from, POLLIN, 0}, {st->to, POLLOUT, 0}};
    int n = poll(p, writable ? 2 : 1, wait_ms);
    if (n < 0 && errno != EINTR) return mr__error_from_errno(errno);
    if (n <= 0) continue;
    if (writable && p[1].revents) {
      ssize_t w = write(st->to, b->w.data + b->sent, writable);
      if (w > 0) b->sent += (size_t)w, st->fed = 1;
      else if (w < 0 && errno != EAGAIN && errno != EINTR) in_open = 0; /* EPIPE */
    }
    if (p[0].revents) {
      int r = read_some(st);
      if (r == MR_ENOMEM) return r;
      if (r < 0) {
        eof = 1;
        /* a last line without its newline still counts */
        if (mr__coline_pending(&st->rd) && mr__coline_room(&st->rd, 1) == 0)
          st->rd.buf.data[st->rd.buf.len++] = '\n';
      } else if (mr__coline_pending(&st->rd) > MR__COLINE_MAX) {
        int status;
        proc_end(st, 0, &status);
        st->deaths = 0;
        int rc = rec_fail(st, MR_ERANGE, &t, "result line over %u bytes", MR__COLINE_MAX);
        return rc ? rc : EV_FAILED;
      }
    }
  }
}

/* ------------------------------------------------------------- kernel */

static int co_init(void *ctx, void **out) {
  co_state *st = calloc(1, sizeof *st);
  if (!st) return MR_ENOMEM;
  st->c = ctx;
  st->to = st->from = -1;
  int rc = proc_start(st); /* a command that cannot start fails here, on every rank */
  if (rc) {
    free(st);
    return rc;
  }
  *out = st;
  return 0;
}

static void co_fini(void *ctx, void *state) {
  (void)ctx;
  co_state *st = state;
  int status;
  proc_end(st, -1, &status);
  mr__coline_free(&st->rd);
  mr__coline_batch_free(&st->b);
  free(st->items);
  mr_buf_free(&st->recs);
  mr_buf_free(&st->times);
  mr_buf_free(&st->data);
  free(st);
}

static int items_index(co_state *st, const mr__work_hdr *wh, const char *items) {
  if (wh->n > st->items_cap) {
    item_ref *p = realloc(st->items, wh->n * sizeof *p);
    if (!p) return MR_ENOMEM;
    st->items = p;
    st->items_cap = wh->n;
  }
  const char *q = items;
  for (uint32_t i = 0; i < wh->n; i++) {
    const char *text;
    size_t len;
    st->items[i].code = work_next(&q, &text, &len);
    st->items[i].text = text;
    st->items[i].len = (uint32_t)len;
  }
  return 0;
}

static int co_chunk(void *tstate, const mr__work_hdr *wh, const char *items, mr_buf *result) {
  co_state *st = tstate;
  st->recs.len = st->times.len = st->data.len = 0;
  st->next = 0;
  st->timed = (wh->flags & MR__WORK_TIMES) != 0;
  const int stop_at_fail = (wh->flags & MR__WORK_STOP_AT_FAIL) != 0;
  int rc = items_index(st, wh, items);
  uint32_t window = 0; /* the whole chunk at once */
  while (!rc && st->next < wh->n) {
    if (st->items[st->next].code) { /* known bad: never sent */
      rc = rec_bad_until(st, st->next + 1, wh->timeout_s);
      if (!rc && stop_at_fail) {
        mr__halt_failed(wh, wh->seq0 + st->next - 1);
        rc = rec_rest(st, wh->n, 0, wh->timeout_s);
      }
      continue;
    }
    if (mr__halted(wh->seq0 + st->next)) {
      rc = rec_rest(st, wh->n, 0, wh->timeout_s);
      break;
    }
    if (mr_stopping()) {
      rc = rec_rest(st, wh->n, MR__DROPPED, wh->timeout_s);
      break;
    }
    rc = batch_check_idle(st);
    if (rc == STRAY_EARLY) {
      rc = MR_EJOB;
      break;
    }
    if (rc == STRAY_LATE) { /* this item is innocent, but the run must say it */
      mr__times t = {0, 0, 0, 0, wh->timeout_s};
      rc = rec_fail(st, MR_EJOB, &t,
                    "malformed answer: the worker wrote lines no item asked for after its "
                    "last batch (a result is one line): answers before this item may be "
                    "out of step; the worker was restarted");
      continue;
    }
    if (rc) break;
    if (!answered_ever(st->c) && st->deaths >= MR__COPROC_START_TRIES) {
      rc = never_answers(st);
      break;
    }
    if (!st->pid && (rc = proc_start(st)) != 0) break;
    int ev = batch_run(st, wh, window);
    if (ev < 0) {
      rc = ev;
      break;
    }
    if (ev == EV_RESYNC) window = 1; /* find the item that answers twice */
    if (ev == EV_FAILED) {
      window = 0; /* found, or a crash: the rest at full speed again */
      if (stop_at_fail) {
        mr__halt_failed(wh, wh->seq0 + st->next - 1);
        rc = rec_rest(st, wh->n, 0, wh->timeout_s);
      }
    }
    if (ev == EV_END) break;
  }
  if (rc) return rc;
  /* the result message: header, records, times, output */
  uint32_t n = (uint32_t)(st->recs.len / sizeof(mr__rec));
  int times = (wh->flags & MR__WORK_TIMES) != 0;
  size_t rbytes = st->recs.len, tbytes = times ? st->times.len : 0;
  size_t pre = sizeof(mr__result_hdr) + rbytes + tbytes;
  result->len = 0;
  if (mr_buf_reserve(result, pre + st->data.len)) return MR_ENOMEM;
  mr__result_hdr rh = {wh->id, n, 0, wh->slot, wh->flags, 0, 0};
  const mr__rec *recs = (const mr__rec *)(const void *)st->recs.data;
  for (uint32_t i = 0; i < n; i++)
    if (recs[i].status) rh.nfail++;
  memcpy(result->data, &rh, sizeof rh);
  if (rbytes) memcpy(result->data + sizeof rh, st->recs.data, rbytes);
  if (tbytes) memcpy(result->data + sizeof rh + rbytes, st->times.data, tbytes);
  if (st->data.len) memcpy(result->data + pre, st->data.data, st->data.len);
  result->len = pre + st->data.len;
  result->data[result->len] = '\0';
  return 0;
}

mr__kernel mr__coproc_kernel(mr__coproc *c) {
  mr__kernel k = {c, co_init, co_fini, NULL, co_chunk};
  return k;
}
