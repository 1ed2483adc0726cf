/* isolate.c: run a kernel's items in a forked child, surviving its death. */
#include "run/isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/io.h"
#include "base/idle.h"
#include "farm/sizer.h"

#define SHM_DATA (16u << 20) /* output bytes one round trip can carry */
#define SHM_WORK (4u << 20)  /* a chunk this size goes through memory, not the pipe */
/* how often the parent looks at the stop while the child computes: the
 * signal that sets it may interrupt another thread's wait, not this one's */
#define STOP_LOOK_MS 50

/* parent -> child: a chunk in the pipe after the command, a chunk in the
 * shared work area, or "go on with the same chunk" */
enum { CMD_NEW = 1, CMD_MORE = 2, CMD_NEW_SHM = 3 };
enum { REP_DONE = 'D', REP_FULL = 'F', REP_INIT = 'I' }; /* child -> parent */

/* What the child publishes, item by item. */
typedef struct shm {
  uint32_t done;     /* items finished (release-stored after each) */
  uint32_t current;  /* the item being computed */
  uint64_t current_start_ns; /* monotonic, when it began */
  double current_wall;
  uint32_t nrec;     /* records in recs[] since the parent last collected */
  uint32_t used;     /* bytes in data[] since then */
  int32_t init_rc;
} shm;

typedef struct item_rec {
  int32_t status;
  uint32_t len;
  mr__times t;
} item_rec;

#define SHM_RECS MR_CHUNK_MAX_ITEMS

typedef struct collect {
  int timed;   /* the child writes times: keep them */
  mr_buf recs; /* mr__rec per item, in order */
  mr_buf times; /* mr__times per item, when timed */
  mr_buf data;
} collect;

typedef struct iso_state {
  const mr__kernel *inner;
  pid_t pid;
  int to_child, from_child;
  /* shm, SHM_RECS mr__rec, SHM_RECS mr__times, SHM_DATA bytes, SHM_WORK
   * bytes (pages are only touched as far as they are used) */
  void *mem;
  size_t mem_size;
  collect c; /* a chunk's records across the child's deaths; kept between
                chunks so that a chunk costs no malloc */
} iso_state;

static shm *mem_hdr(void *mem) { return mem; }
/* status and length apart from the times, which only a time limit or the
 * joblog needs: an untimed item moves 8 bytes of bookkeeping, not 48 */
static mr__rec *mem_recs(void *mem) { return (mr__rec *)(void *)((char *)mem + sizeof(shm)); }
static mr__times *mem_times(void *mem) {
  return (mr__times *)(void *)((char *)mem + sizeof(shm) + SHM_RECS * sizeof(mr__rec));
}
static char *mem_data(void *mem) {
  return (char *)mem + sizeof(shm) + SHM_RECS * (sizeof(mr__rec) + sizeof(mr__times));
}
static char *mem_work(void *mem) { return mem_data(mem) + SHM_DATA; }

/* Reads n bytes: 0, or MR_EIO when the other side is gone (or failed). */
static int read_full(int fd, void *p, size_t n) {
  char *c = p;
  while (n) {
    ssize_t r = read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return MR_EIO;
    c += r;
    n -= (size_t)r;
  }
  return 0;
}

/* A time limit or the joblog needs each item's times; nothing else does. */
static int wants_times(const mr__work_hdr *wh) {
  return (wh->flags & MR__WORK_TIMES) || wh->timeout_s > 0;
}

/* ------------------------------------------------------------- child */

static void child_exit_hook(int status, void *arg) {
  (void)arg;
  _exit(status); /* never run the parent's atexit handlers (MPI's) here */
}

/* Computes items from `from` on; returns when done or the data area is
 * full (then *pending holds the computed item that did not fit). */
static char child_compute(iso_state *st, void *tstate, const char *work,
                          uint32_t from, mr_buf *out, int *have_pending,
                          item_rec *pending_rec) {
  shm *h = mem_hdr(st->mem);
  mr__rec *recs = mem_recs(st->mem);
  mr__times *times = mem_times(st->mem);
  char *data = mem_data(st->mem);
  mr__work_hdr wh;
  memcpy(&wh, work, sizeof wh);
  const char *p = work_items(work);
  const char *text;
  size_t len;
  /* three clock reads an item cost as much as a cheap item: only when a
   * time limit or the joblog needs them */
  int timed = wants_times(&wh);
  for (uint32_t i = 0; i < from; i++) work_next(&p, &text, &len);
  for (uint32_t i = from; i < wh.n; i++) {
    int code = work_next(&p, &text, &len);
    if (*have_pending) { /* the item that did not fit last time */
      *have_pending = 0;
    } else {
      h->current = i;
      if (timed) {
        h->current_wall = mr__wall_time();
        __atomic_store_n(&h->current_start_ns, mr__now_ns(), __ATOMIC_RELEASE);
      }
      out->len = 0;
      mr__times t = {timed ? h->current_wall : 0, 0, 0, 0, wh.timeout_s};
      if (code == 0) code = st->inner->run(tstate, text, len, wh.seq0 + i, out, &t);
      if (timed) t.runtime = (double)(mr__now_ns() - h->current_start_ns) * 1e-9;
      *pending_rec = (item_rec){code, (uint32_t)out->len, t};
    }
    if (out->len > SHM_DATA) { /* can never fit: fail it */
      out->len = 0;
      mr_buf_printf(out, "result over %u bytes, the --isolate limit", SHM_DATA);
      pending_rec->status = MR_ERANGE;
      pending_rec->len = (uint32_t)out->len;
    }
    if (h->used + out->len > SHM_DATA || h->nrec == SHM_RECS) {
      *have_pending = 1;
      return REP_FULL;
    }
    memcpy(data + h->used, out->data, out->len);
    recs[h->nrec] = (mr__rec){pending_rec->status, pending_rec->len};
    if (timed) times[h->nrec] = pending_rec->t;
    h->used += (uint32_t)out->len;
    h->nrec++;
    __atomic_store_n(&h->done, i + 1, __ATOMIC_RELEASE);
  }
  return REP_DONE;
}

static void child_main(iso_state *st, pid_t parent) {
  on_exit(child_exit_hook, NULL);
  /* MPI installs handlers that print a backtrace: a crash here is an
   * item's failure, reported once by the parent */
  static const int fatal[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
  for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], SIG_DFL);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(0);
  void *tstate = NULL;
  int rc = st->inner->thread_init ? st->inner->thread_init(st->inner->ctx, &tstate) : 0;
  mem_hdr(st->mem)->init_rc = rc;
  char rep = REP_INIT;
  if (mr__write_all(st->from_child, &rep, 1) || rc) _exit(0);
  mr_buf work = {0}, out = {0};
  const char *chunk = NULL;
  int have_pending = 0;
  item_rec pending = {0, 0, {0, 0, 0, 0, 0}};
  for (;;) {
    uint32_t cmd[3]; /* op, from, work bytes */
    if (read_full(st->to_child, cmd, sizeof cmd)) _exit(0); /* parent gone */
    if (cmd[0] == CMD_NEW) {
      have_pending = 0;
      work.len = 0;
      if (mr_buf_reserve(&work, cmd[2]) || read_full(st->to_child, work.data, cmd[2]))
        _exit(0);
      work.len = cmd[2];
      chunk = work.data;
    } else if (cmd[0] == CMD_NEW_SHM) {
      have_pending = 0;
      chunk = mem_work(st->mem); /* the parent leaves it alone until we answer */
    }
    if (!chunk) _exit(0);
    rep = child_compute(st, tstate, chunk, cmd[1], &out, &have_pending, &pending);
    if (mr__write_all(st->from_child, &rep, 1)) _exit(0);
  }
}

/* ------------------------------------------------------------ parent */

static void child_reap(iso_state *st, int *status) {
  if (st->pid > 0) {
    kill(st->pid, SIGKILL);
    while (waitpid(st->pid, status, 0) < 0 && errno == EINTR) {
    }
  }
  if (st->to_child >= 0) close(st->to_child);
  if (st->from_child >= 0) close(st->from_child);
  st->pid = 0;
  st->to_child = st->from_child = -1;
}

/* Forks a child and waits for its job init: 0 or the init's error. */
static int child_start(iso_state *st) {
  int down[2], up[2];
  if (pipe2(down, O_CLOEXEC)) return MR_EIO;
  if (pipe2(up, O_CLOEXEC)) {
    close(down[0]);
    close(down[1]);
    return MR_EIO;
  }
  memset(st->mem, 0, sizeof(shm));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(down[0]), close(down[1]), close(up[0]), close(up[1]);
    return MR_ENOMEM;
  }
  if (pid == 0) {
    close(down[1]);
    close(up[0]);
    st->to_child = down[0];
    st->from_child = up[1];
    child_main(st, parent);
    _exit(0);
  }
  close(down[0]);
  close(up[1]);
  st->pid = pid;
  st->to_child = down[1];
  st->from_child = up[0];
  char rep = 0;
  if (read_full(st->from_child, &rep, 1) || rep != REP_INIT) {
    int status = 0;
    child_reap(st, &status);
    return MR_ECRASH;
  }
  int rc = mem_hdr(st->mem)->init_rc;
  if (rc) {
    int status;
    child_reap(st, &status);
  }
  return rc;
}

static void collect_free(collect *c) {
  mr_buf_free(&c->recs);
  mr_buf_free(&c->times);
  mr_buf_free(&c->data);
}

static int iso_init(void *ctx, void **out) {
  mr__isolate *iso = ctx;
  iso_state *st = calloc(1, sizeof *st);
  if (!st) return MR_ENOMEM;
  st->inner = iso->inner;
  st->to_child = st->from_child = -1;
  st->mem_size =
      sizeof(shm) + SHM_RECS * (sizeof(mr__rec) + sizeof(mr__times)) + SHM_DATA + SHM_WORK;
  st->mem = mmap(NULL, st->mem_size, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (st->mem == MAP_FAILED) {
    free(st);
    return MR_ENOMEM;
  }
  int rc = child_start(st);
  if (rc) {
    munmap(st->mem, st->mem_size);
    free(st);
    return rc;
  }
  *out = st;
  return 0;
}

static void iso_fini(void *ctx, void *state) {
  (void)ctx;
  iso_state *st = state;
  int status;
  child_reap(st, &status);
  collect_free(&st->c);
  munmap(st->mem, st->mem_size);
  free(st);
}

/* Moves what the child published into c. */
static int take(iso_state *st, collect *c) {
  shm *h = mem_hdr(st->mem);
  if (mr_buf_append(&c->recs, mem_recs(st->mem), h->nrec * sizeof(mr__rec)) ||
      (c->timed &&
       mr_buf_append(&c->times, mem_times(st->mem), h->nrec * sizeof(mr__times))) ||
      mr_buf_append(&c->data, mem_data(st->mem), h->used))
    return MR_ENOMEM;
  h->nrec = 0;
  h->used = 0;
  return 0;
}

/* The record of the item the child died on. */
static int add_failure(collect *c, int status, const mr__times *t) {
  size_t before = c->data.len;
  if (status == MR_ETIMEDOUT)
    mr_buf_printf(&c->data, "timed out after %g s", t->limit);
  else if (t->signal)
    mr_buf_printf(&c->data, "the job crashed: signal %d (%s)", t->signal,
                  strsignal(t->signal));
  else
    mr_buf_printf(&c->data, "the job called exit(%d)", t->exitval);
  mr__rec r = {status, (uint32_t)(c->data.len - before)};
  if (c->timed && mr_buf_append(&c->times, t, sizeof *t)) return MR_ENOMEM;
  return mr_buf_append(&c->recs, &r, sizeof r);
}

/* The run is stopping: item `from` (cut short, or next) is dropped and the
 * rest go back unrun; --resume runs them all. Dropping one item, not
 * handing it back, makes progress even on a rank stopped alone. */
static int add_stopped(collect *c, const mr__work_hdr *wh, uint32_t from) {
  mr__times t = {0, 0, 0, 0, wh->timeout_s};
  for (uint32_t i = from; i < wh->n; i++) {
    mr__rec r = {i == from ? MR__DROPPED : MR__NOTRUN, 0};
    if ((c->timed && mr_buf_append(&c->times, &t, sizeof t)) ||
        mr_buf_append(&c->recs, &r, sizeof r))
      return MR_ENOMEM;
  }
  return 0;
}

static int send_cmd(iso_state *st, uint32_t op, uint32_t from, const void *work) {
  const mr__work_hdr *wh = work;
  uint32_t len = op == CMD_NEW ? (uint32_t)(sizeof *wh + wh->bytes) : 0;
  if (op == CMD_NEW && len <= SHM_WORK) { /* one copy, not two through a
                                             pipe of 64 KiB */
    memcpy(mem_work(st->mem), work, len);
    op = CMD_NEW_SHM;
  }
  uint32_t cmd[3] = {op, from, len};
  if (mr__write_all(st->to_child, cmd, sizeof cmd)) return MR_EIO;
  if (op == CMD_NEW && mr__write_all(st->to_child, work, len)) return MR_EIO;
  return 0;
}

/* Runs the chunk's items from `from` on in the child, until done, or the
 * child dies (then *died is the item it died on and *why the reason), or
 * the run is stopping (MR_EINTR: the child is killed, *died is the item it
 * was on).
 * When the child did the whole chunk in one go, its records stay in the
 * shared memory and *in_shm is set. */
static int run_segment(iso_state *st, const void *work, uint32_t from,
                       double limit, collect *c, int *died, mr__times *dt,
                       int *in_shm) {
  shm *h = mem_hdr(st->mem);
  *died = -1;
  /* what the child publishes starts from here (not the last chunk's) */
  h->current = from;
  h->current_start_ns = 0;
  __atomic_store_n(&h->done, from, __ATOMIC_RELEASE);
  if (send_cmd(st, CMD_NEW, from, work)) goto dead;
  for (;;) {
    int wait_ms = STOP_LOOK_MS;
    if (mr_stopping()) {
      int status;
      child_reap(st, &status);
      if (take(st, c)) return MR_ENOMEM;
      /* what it finished is kept: the records say which item is next */
      *died = (int)(c->recs.len / sizeof(mr__rec));
      return MR_EINTR;
    }
    if (limit > 0) {
      uint64_t started = __atomic_load_n(&h->current_start_ns, __ATOMIC_ACQUIRE);
      double ran = (double)(mr__now_ns() - started) * 1e-9;
      uint32_t cur = h->current;
      if (started && cur >= from && cur >= __atomic_load_n(&h->done, __ATOMIC_ACQUIRE) &&
          ran > limit) {
        *died = (int)cur;
        *dt = (mr__times){h->current_wall, ran, 0, SIGKILL, limit};
        int status;
        child_reap(st, &status);
        if (take(st, c)) return MR_ENOMEM;
        return MR_ETIMEDOUT;
      }
      double left = limit - (ran > 0 && started ? ran : 0);
      if (left * 1000 < wait_ms) wait_ms = (int)(left * 1000) + 1;
      if (wait_ms < 1) wait_ms = 1;
    }
    struct pollfd p = {st->from_child, POLLIN, 0};
    int n = poll(&p, 1, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) continue;
    char rep;
    if (read_full(st->from_child, &rep, 1)) goto dead;
    if (rep == REP_DONE && c->recs.len == 0) {
      *in_shm = 1;
      return 0;
    }
    if (take(st, c)) return MR_ENOMEM;
    if (rep == REP_DONE) return 0;
    if (send_cmd(st, CMD_MORE, __atomic_load_n(&h->done, __ATOMIC_ACQUIRE), work)) goto dead;
  }
dead:;
  int status = 0;
  uint32_t cur = __atomic_load_n(&h->done, __ATOMIC_ACQUIRE);
  uint64_t started = h->current_start_ns;
  *dt = (mr__times){h->current_wall,
                    started ? (double)(mr__now_ns() - started) * 1e-9 : 0, 0, 0,
                    limit};
  if (take(st, c)) return MR_ENOMEM;
  child_reap(st, &status);
  *died = (int)cur;
  if (WIFSIGNALED(status)) {
    dt->signal = WTERMSIG(status);
  } else if (WIFEXITED(status)) {
    dt->exitval = WEXITSTATUS(status);
  }
  return MR_ECRASH;
}

static int iso_chunk(void *tstate, const mr__work_hdr *wh, const char *items,
                     mr_buf *result) {
  iso_state *st = tstate;
  const void *work = items - sizeof *wh;
  collect *c = &st->c;
  c->timed = wants_times(wh);
  c->recs.len = c->times.len = c->data.len = 0;
  uint32_t from = 0;
  int rc = 0, in_shm = 0;
  while (from < wh->n) {
    if (mr_stopping()) { /* no child started for a chunk the run drops */
      rc = add_stopped(c, wh, from);
      break;
    }
    if (!st->pid && (rc = child_start(st)) != 0) break;
    int died;
    mr__times dt;
    int r = run_segment(st, work, from, wh->timeout_s, c, &died, &dt, &in_shm);
    if (r == MR_ENOMEM) {
      rc = r;
      break;
    }
    if (r == MR_EINTR) {
      rc = add_stopped(c, wh, (uint32_t)died);
      break;
    }
    if (r == 0 || (uint32_t)died >= wh->n) break;
    /* the item it died on fails; the ones after it go on */
    if (add_failure(c, r, &dt)) {
      rc = MR_ENOMEM;
      break;
    }
    from = (uint32_t)died + 1;
  }
  if (rc) return rc;
  /* the records: straight from the child's memory when it did the whole
   * chunk in one go (the usual case), else as collected */
  shm *h = mem_hdr(st->mem);
  uint32_t n = in_shm ? h->nrec : (uint32_t)(c->recs.len / sizeof(mr__rec));
  const mr__rec *recs = in_shm ? mem_recs(st->mem) : (const mr__rec *)(void *)c->recs.data;
  const mr__times *tms =
      in_shm ? mem_times(st->mem) : (const mr__times *)(void *)c->times.data;
  const char *data = in_shm ? mem_data(st->mem) : c->data.data;
  size_t data_len = in_shm ? h->used : c->data.len;
  /* assemble the result message: header, records, times, output */
  int times = (wh->flags & MR__WORK_TIMES) != 0;
  size_t rbytes = n * sizeof(mr__rec), tbytes = times ? n * sizeof(mr__times) : 0;
  size_t pre = sizeof(mr__result_hdr) + rbytes + tbytes;
  result->len = 0;
  rc = mr_buf_reserve(result, pre + data_len) ? MR_ENOMEM : 0;
  if (!rc) {
    mr__result_hdr rh = {wh->id, n, 0, wh->slot, wh->flags, 0, 0};
    for (uint32_t i = 0; i < n; i++)
      if (recs[i].status) rh.nfail++;
    memcpy(result->data, &rh, sizeof rh);
    if (rbytes) memcpy(result->data + sizeof rh, recs, rbytes);
    if (tbytes) memcpy(result->data + sizeof rh + rbytes, tms, tbytes);
    if (data_len) memcpy(result->data + pre, data, data_len);
    result->len = pre + data_len;
  }
  if (in_shm) { /* the child starts the next chunk on an empty page */
    h->nrec = 0;
    h->used = 0;
  }
  return rc;
}

mr__kernel mr__isolate_kernel(mr__isolate *iso) {
  mr__kernel k = {iso, iso_init, iso_fini, NULL, iso_chunk};
  return k;
}
