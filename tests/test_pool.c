/* test_pool.c: computing threads, and waiting without burning a core. */
#include "tu.h"

#include "base/idle.h"
#include "farm/pool.h"

static int echo_run(void *st, const char *item, size_t len, uint64_t seq,
                    mr_buf *out, mr__times *t) {
  (void)st;
  (void)t;
  return mr_buf_printf(out, "%llu:%.*s", (unsigned long long)seq, (int)len, item);
}

static int init_calls;
static int counting_init(void *ctx, void **ts) {
  (void)ctx;
  __atomic_add_fetch(&init_calls, 1, __ATOMIC_SEQ_CST);
  *ts = NULL;
  return 0;
}

static int failing_init(void *ctx, void **ts) {
  (void)ctx;
  (void)ts;
  return MR_EJOB;
}

/* An item that runs until it is let go (code that ignores the stop). */
static volatile int let_go, entered;
static int stuck_run(void *st, const char *item, size_t len, uint64_t seq,
                     mr_buf *out, mr__times *t) {
  (void)st, (void)item, (void)len, (void)seq, (void)t;
  entered = 1;
  while (!let_go) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  return mr_buf_puts(out, "late");
}

static void push_one(mr__pool *p, mr__task *t, uint32_t slot) {
  mr__work_begin(&t->work, slot, slot, 0, slot, 0);
  assert_int_equal(work_add(&t->work, "x", 1, 0), 0);
  t->slot = slot;
  mr__pool_push(p, t);
}

/* mr__pool_stop waits a bounded time: a thread inside an item that does not
 * end is reported, not joined; queued tasks come out unrun. */
static void test_stop_leaves_a_stuck_item(void **st) {
  (void)st;
  mr__kernel k = {NULL, NULL, NULL, stuck_run, NULL};
  mr__pool *p = NULL;
  assert_int_equal(mr__pool_new(1, &k, &p), 0);
  assert_non_null(p);
  mr__task tasks[3];
  memset(tasks, 0, sizeof tasks);
  let_go = entered = 0;
  for (uint32_t i = 0; i < 3; i++) push_one(p, &tasks[i], i);
  while (!entered) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  assert_int_equal(mr__pool_stop(p, 50000000), MR_EINTR);
  let_go = 1; /* what the end of the process would do to the thread */
  assert_int_equal(mr__pool_stop(p, 5000000000u), 0);
  int unrun = 0;
  for (mr__task *t; (t = mr__pool_pop(p));) unrun += t->rc == MR_EINTR;
  assert_int_equal(unrun, 2); /* the queued ones were not computed */
  mr__pool_free(p);
  for (int i = 0; i < 3; i++) {
    mr_buf_free(&tasks[i].work);
    mr_buf_free(&tasks[i].result);
  }
}

static void test_every_task_comes_back(void **st) {
  (void)st;
  mr__kernel k = {NULL, counting_init, NULL, echo_run, NULL};
  init_calls = 0;
  mr__pool *p = NULL;
  assert_int_equal(mr__pool_new(3, &k, &p), 0);
  assert_non_null(p);
  assert_int_equal(init_calls, 3); /* each thread made its state first */
  assert_int_equal(mr__pool_threads(p), 3);
  enum { N = 50 };
  mr__task tasks[N];
  memset(tasks, 0, sizeof tasks);
  for (int i = 0; i < N; i++) {
    char item[16];
    snprintf(item, sizeof item, "i%d", i);
    mr__work_begin(&tasks[i].work, (uint64_t)i, (uint64_t)i * 10, 0, (uint32_t)i, 0);
    assert_int_equal(work_add(&tasks[i].work, item, strlen(item), 0), 0);
    tasks[i].slot = (uint32_t)i;
    mr__pool_push(p, &tasks[i]);
  }
  int seen[N] = {0}, got = 0;
  while (got < N) {
    mr__task *t = mr__pool_pop(p);
    if (!t) {
      mr__pool_wait(p, 1000000);
      continue;
    }
    assert_int_equal(t->rc, 0);
    char want[32];
    snprintf(want, sizeof want, "%u:i%u", t->slot * 10, t->slot);
    assert_memory_equal(mr__result_data(t->result.data), want, strlen(want));
    seen[t->slot]++;
    got++;
  }
  for (int i = 0; i < N; i++) assert_int_equal(seen[i], 1);
  assert_int_equal(mr__pool_pending(p), 0);
  /* and one computed by the caller itself */
  assert_int_equal(mr__pool_run_here(p, &tasks[0]), 0);
  assert_int_equal(init_calls, 4);
  assert_ptr_equal(mr__pool_pop(p), &tasks[0]);
  mr__pool_free(p);
  for (int i = 0; i < N; i++) {
    mr_buf_free(&tasks[i].work);
    mr_buf_free(&tasks[i].result);
  }
}

/* The first item blocks until released, so the rest queue behind it. */
static volatile int gate, started;
static int gated_run(void *st, const char *item, size_t len, uint64_t seq,
                     mr_buf *out, mr__times *t) {
  (void)st;
  (void)t;
  if (seq == 0) __atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
  while (seq == 0 && !__atomic_load_n(&gate, __ATOMIC_SEQ_CST)) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
  return mr_buf_append(out, item, len);
}

static void test_urgent_work_goes_first(void **st) {
  (void)st;
  mr__kernel k = {NULL, NULL, NULL, gated_run, NULL};
  gate = started = 0;
  mr__pool *p = NULL;
  assert_int_equal(mr__pool_new(1, &k, &p), 0);
  assert_non_null(p);
  mr__task tasks[4];
  memset(tasks, 0, sizeof tasks);
  uint32_t flags[4] = {0, 0, MR__WORK_URGENT, MR__WORK_URGENT};
  for (int i = 0; i < 4; i++) {
    mr__work_begin(&tasks[i].work, (uint64_t)i, (uint64_t)i, flags[i], (uint32_t)i, 0);
    assert_int_equal(work_add(&tasks[i].work, "x", 1, 0), 0);
    tasks[i].slot = (uint32_t)i;
    mr__pool_push(p, &tasks[i]);
    if (i == 0) /* the thread has taken it */
      while (!__atomic_load_n(&started, __ATOMIC_SEQ_CST)) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
      }
  }
  __atomic_store_n(&gate, 1, __ATOMIC_SEQ_CST);
  uint32_t order[4], got = 0;
  while (got < 4) {
    mr__task *t = mr__pool_pop(p);
    if (!t) {
      mr__pool_wait(p, 1000000);
      continue;
    }
    order[got++] = t->slot;
  }
  /* the blocked one, then the urgent ones in their order, then the rest */
  assert_int_equal(order[0], 0);
  assert_int_equal(order[1], 2);
  assert_int_equal(order[2], 3);
  assert_int_equal(order[3], 1);
  mr__pool_free(p);
  for (int i = 0; i < 4; i++) {
    mr_buf_free(&tasks[i].work);
    mr_buf_free(&tasks[i].result);
  }
}

static void test_queue_puts_urgent_work_first_in_order(void **st) {
  (void)st;
  enum { N = 7 };
  /* pushed: a b U1 c U2 d U3 -> popped: U1 U2 U3 a b c d */
  uint32_t urgent[N] = {0, 0, 1, 0, 1, 0, 1}, want[N] = {2, 4, 6, 0, 1, 3, 5};
  mr__task t[N];
  memset(t, 0, sizeof t);
  mr__taskq q = {NULL, NULL, NULL};
  assert_null(mr__taskq_pop(&q));
  for (int i = 0; i < N; i++) {
    mr__work_begin(&t[i].work, (uint64_t)i, 0, urgent[i] ? MR__WORK_URGENT : 0,
               (uint32_t)i, 0);
    t[i].slot = (uint32_t)i;
    mr__taskq_push(&q, &t[i]);
  }
  for (int i = 0; i < N; i++) assert_int_equal(mr__taskq_pop(&q)->slot, want[i]);
  assert_null(mr__taskq_pop(&q));
  /* an urgent one into an emptied queue, then one more of each */
  mr__taskq_push(&q, &t[2]);
  mr__taskq_push(&q, &t[0]);
  mr__taskq_push(&q, &t[4]);
  assert_ptr_equal(mr__taskq_pop(&q), &t[2]);
  assert_ptr_equal(mr__taskq_pop(&q), &t[4]);
  assert_ptr_equal(mr__taskq_pop(&q), &t[0]);
  assert_null(mr__taskq_pop(&q));
  for (int i = 0; i < N; i++) mr_buf_free(&t[i].work);
}

static void test_failing_init_is_reported(void **st) {
  (void)st;
  mr__kernel k = {NULL, failing_init, NULL, echo_run, NULL};
  mr__pool *p = NULL;
  assert_int_equal(mr__pool_new(2, &k, &p), MR_EJOB);
  assert_null(p);
}

/* The sleep a waiter is told to take for a wait of waited_ns: 0 while it
 * spins, then waited / SHARE between the bounds. */
static uint64_t idle_policy(uint64_t waited_ns) {
  if (waited_ns < MR_IDLE_SPIN_NS) return 0;
  uint64_t s = waited_ns / MR_IDLE_SLEEP_SHARE;
  if (s < MR_IDLE_SLEEP_MIN_NS) return MR_IDLE_SLEEP_MIN_NS;
  return s > MR_IDLE_SLEEP_MAX_NS ? MR_IDLE_SLEEP_MAX_NS : s;
}

/* mr__idle_next after an idle stretch begun waited_ns ago. The clock runs
 * on between the readings, by milliseconds on a loaded machine, so the
 * answer is checked against the policy at both ends of the call, not
 * against the wait the test meant: a fixed nap overshot would fail it. */
static uint32_t idle_after(mr__idle *w, uint64_t waited_ns) {
  w->since_ns = mr__now_ns() - waited_ns;
  uint64_t t0 = mr__now_ns();
  uint32_t got = mr__idle_next(w);
  uint64_t t1 = mr__now_ns();
  assert_true(got >= idle_policy(t0 - w->since_ns));
  assert_true(got <= idle_policy(t1 - w->since_ns));
  return got;
}

static void test_idle_spins_then_sleeps_longer(void **st) {
  (void)st;
  mr__idle w = {0};
  assert_int_equal(mr__idle_next(&w), 0); /* starts spinning */
  assert_true(w.since_ns != 0);           /* ... and notes when */
  idle_after(&w, 0);                      /* spins on (unless preempted) */
  /* just past the spin: short sleeps */
  uint32_t a = idle_after(&w, MR_IDLE_SPIN_NS + 10000);
  assert_true(a >= MR_IDLE_SLEEP_MIN_NS);
  /* 4 ms: sleeps of at least 4 ms / 8, longer than those */
  uint32_t b = idle_after(&w, 4000000);
  assert_true(b >= 4000000 / MR_IDLE_SLEEP_SHARE);
  assert_true(b >= a);
  /* a long wait: never longer than the bound */
  assert_int_equal(idle_after(&w, 10 * (uint64_t)MR_IDLE_SLEEP_MAX_NS), MR_IDLE_SLEEP_MAX_NS);
  idle_reset(&w);
  assert_int_equal(mr__idle_next(&w), 0); /* busy again: spin first */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_task_comes_back),
      cmocka_unit_test(test_urgent_work_goes_first),
      cmocka_unit_test(test_queue_puts_urgent_work_first_in_order),
      cmocka_unit_test(test_failing_init_is_reported),
      cmocka_unit_test(test_stop_leaves_a_stuck_item),
      cmocka_unit_test(test_idle_spins_then_sleeps_longer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
