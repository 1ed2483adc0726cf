/* test_sizer.c: chunk sizes and how many chunks a rank may hold. */
#include "tu.h"

#include "farm/sizer.h"

/* k ranks returned their first result */
static void report(mr__sizer *s, int k) {
  for (int i = 0; i < k; i++) mr__sizer_first_result(s);
}

static void test_first_chunk_is_one_item(void **st) {
  (void)st;
  mr__sizer s;
  mr__sizer_init(&s, 0, 4);
  assert_int_equal(mr__sizer_next(&s, UINT64_MAX), 1);
  assert_int_equal(mr__sizer_next(&s, UINT64_MAX), 1); /* still nothing known */
}

static void test_grows_gently_to_the_target(void **st) {
  (void)st;
  mr__sizer s;
  mr__sizer_init(&s, 0, 2);
  mr__sizer_observe(&s, 1, 1000); /* 1 us an item: 4 ms is 4000 items */
  report(&s, 1);
  assert_int_equal(mr__sizer_next(&s, UINT64_MAX), 1); /* one rank of two */
  mr__sizer_observe(&s, 1, 1000);
  report(&s, 1);
  size_t a = mr__sizer_next(&s, UINT64_MAX);
  size_t b = mr__sizer_next(&s, UINT64_MAX);
  size_t c = mr__sizer_next(&s, UINT64_MAX);
  assert_int_equal(a, 4); /* at most 4x the last one */
  assert_int_equal(b, 16);
  assert_int_equal(c, 64);
  for (int i = 0; i < 10; i++) mr__sizer_next(&s, UINT64_MAX);
  assert_int_equal(mr__sizer_next(&s, UINT64_MAX), 4000);
}

static void test_long_items_go_alone(void **st) {
  (void)st;
  mr__sizer s;
  mr__sizer_init(&s, 0, 8);
  mr__sizer_observe(&s, 1, 50000000); /* 50 ms */
  assert_int_equal(mr__sizer_next(&s, UINT64_MAX), 1);
}

static void test_tail_shrinks_but_not_below_half_a_ms(void **st) {
  (void)st;
  mr__sizer s;
  mr__sizer_init(&s, 0, 4);
  mr__sizer_observe(&s, 4, 400); /* 0.1 us an item: 4 ms is 40,000 */
  report(&s, 4);
  for (int i = 0; i < 20; i++) mr__sizer_next(&s, UINT64_MAX);
  /* 100,000 left on 4 ranks: at most a quarter of a rank's share */
  assert_int_equal(mr__sizer_next(&s, 100000), 6250);
  /* nearly done: half a millisecond of work, 5,000 items, not fewer */
  assert_int_equal(mr__sizer_next(&s, 10000), 2500);
  /* but not more than a rank's share of the rest: the last items may be
   * the slow ones */
  assert_int_equal(mr__sizer_next(&s, 100), 25);
  assert_int_equal(mr__sizer_next(&s, 3), 1);
}

static void test_a_cheap_first_item_misleads_nothing(void **st) {
  (void)st;
  mr__sizer s;
  mr__sizer_init(&s, 0, 8);
  mr__sizer_observe(&s, 1, 1000); /* a calc_stuff item that sleeps 0 units */
  report(&s, 1);
  assert_int_equal(mr__sizer_next(&s, 112), 1);
  /* the fast rank's further cheap results do not end the learning */
  for (int i = 0; i < 20; i++) mr__sizer_observe(&s, 1, 1000);
  assert_int_equal(mr__sizer_next(&s, 100), 1);
  for (int i = 0; i < 7; i++) mr__sizer_observe(&s, 1, 20000000); /* 20 ms */
  report(&s, 7);
  assert_int_equal(mr__sizer_next(&s, 90), 1);
  /* the plain mean of the first items: another cheap one moves it little */
  mr__sizer_observe(&s, 1, 1000);
  assert_true(s.item_ns > 4e6);
  assert_int_equal(mr__sizer_next(&s, 89), 1);
}

static void test_a_stuck_rank_ends_the_learning(void **st) {
  (void)st;
  mr__sizer s;
  mr__sizer_init(&s, 0, 8);
  report(&s, 7); /* one rank is still in its first item */
  for (int i = 0; i < 64 * 8 - 1; i++) mr__sizer_observe(&s, 1, 1000);
  assert_int_equal(mr__sizer_next(&s, UINT64_MAX), 1);
  mr__sizer_observe(&s, 1, 1000); /* 64 items a rank: cheap items, grow */
  assert_int_equal(mr__sizer_next(&s, UINT64_MAX), 4);
}

static void test_items_per_chunk_follows_the_cost(void **st) {
  (void)st;
  mr__sizer s;
  mr__sizer_init(&s, 0, 2);
  assert_int_equal(mr__sizer_items_per_chunk(&s), UINT32_MAX); /* unknown */
  mr__sizer_observe(&s, 2, 2000); /* 1 us an item: 4 ms is 4000 */
  assert_int_equal(mr__sizer_items_per_chunk(&s), 4000);
  for (int i = 0; i < 20; i++) mr__sizer_observe(&s, 1, 6000000); /* then 6 ms */
  assert_int_equal(mr__sizer_items_per_chunk(&s), 1);
}

static void test_fixed_size_is_honoured(void **st) {
  (void)st;
  mr__sizer s;
  mr__sizer_init(&s, 7, 4);
  assert_int_equal(mr__sizer_next(&s, UINT64_MAX), 7);
  mr__sizer_observe(&s, 7, 7000000);
  assert_int_equal(mr__sizer_next(&s, 3), 7);
}

static void test_chunks_grow_with_many_ranks(void **st) {
  (void)st;
  mr__sizer s;
  mr__sizer_init(&s, 0, 10000); /* one master, 10,000 ranks: 100 ms chunks */
  for (int i = 0; i < 63; i++) mr__sizer_observe(&s, 1, 1000000); /* 1 ms an item */
  report(&s, 63);
  assert_int_equal(mr__sizer_next(&s, UINT64_MAX), 1);
  mr__sizer_observe(&s, 1, 1000000); /* 64 ranks are enough, whatever the ranks */
  report(&s, 1);
  for (int i = 0; i < 10; i++) mr__sizer_next(&s, UINT64_MAX);
  assert_int_equal(mr__sizer_next(&s, UINT64_MAX), 100);
}

static void test_depth(void **st) {
  (void)st;
  mr__sizer s;
  mr__sizer_init(&s, 0, 8);
  /* unknown cost: one chunk per thread */
  assert_int_equal(mr__sizer_depth(&s, UINT64_MAX, 1, 3, 0), 1);
  assert_int_equal(mr__sizer_depth(&s, UINT64_MAX, 4, 9, 0), 4);
  /* cheap items: the full depth hides the round trip */
  mr__sizer_observe(&s, 8, 8000);
  report(&s, 8);
  for (int i = 0; i < 10; i++) mr__sizer_next(&s, UINT64_MAX);
  assert_int_equal(mr__sizer_depth(&s, UINT64_MAX, 1, 3, 0), 3);
  assert_int_equal(mr__sizer_depth(&s, UINT64_MAX, 1, 3, 4), 3); /* 4 ms chunks */
  /* chunks cut short (by bytes): enough of them for 2 ms of work queued
   * behind the running one, at most `extra` more than max */
  s.sent = 500; /* 0.5 ms */
  assert_int_equal(mr__sizer_depth(&s, UINT64_MAX, 1, 3, 4), 5);
  s.sent = 100; /* 0.1 ms */
  assert_int_equal(mr__sizer_depth(&s, UINT64_MAX, 1, 3, 4), 7);
  assert_int_equal(mr__sizer_depth(&s, UINT64_MAX, 1, 3, 0), 3);
  /* near the end: one per thread again */
  assert_int_equal(mr__sizer_depth(&s, 100, 1, 3, 4), 1);
  /* the single items sent while learning are not short chunks: the first
   * results may be the cheap items of a skewed input */
  mr__sizer f;
  mr__sizer_init(&f, 0, 8);
  mr__sizer_observe(&f, 1, 1000);
  report(&f, 1);
  assert_int_equal(mr__sizer_next(&f, UINT64_MAX), 1);
  f.sent = 1;
  assert_int_equal(mr__sizer_depth(&f, UINT64_MAX, 1, 3, 4), 3);
  report(&f, 7); /* every rank has answered: now they are */
  mr__sizer_next(&f, UINT64_MAX);
  f.sent = 1;
  assert_int_equal(mr__sizer_depth(&f, UINT64_MAX, 1, 3, 4), 7);
  /* long items: one queued behind the running one, no more */
  mr__sizer l;
  mr__sizer_init(&l, 0, 8);
  mr__sizer_observe(&l, 1, 250000000);
  mr__sizer_next(&l, UINT64_MAX);
  assert_int_equal(mr__sizer_depth(&l, UINT64_MAX, 1, 3, 4), 2);
  assert_int_equal(mr__sizer_depth(&l, UINT64_MAX, 1, 1, 4), 1); /* capped */
}

static void test_budget(void **st) {
  (void)st;
  mr__sizer s;
  uint32_t us, every;
  mr__sizer_init(&s, 0, 4);
  mr__sizer_budget(&s, 100, 1, &us, &every);
  assert_int_equal(us, 0); /* nothing measured yet: no budget */
  mr__sizer_observe(&s, 1, 100); /* 0.1 us an item */
  mr__sizer_budget(&s, 1, 1, &us, &every);
  assert_int_equal(us, 0); /* a single item has nothing to hand back */
  mr__sizer_budget(&s, 1000, 1, &us, &every);
  assert_int_equal(us, 16000); /* 8 x 0.1 ms, but at least 16 ms */
  assert_int_equal(every, 10);  /* the clock about once a microsecond */
  mr__sizer_budget(&s, 1000, 4, &us, &every);
  assert_int_equal(us, 64000); /* four ranks a core: four times as long */
  mr__sizer l;
  mr__sizer_init(&l, 0, 4);
  mr__sizer_observe(&l, 1, 10000000); /* 10 ms an item */
  mr__sizer_budget(&l, 10, 1, &us, &every);
  assert_int_equal(us, 800000); /* 8 x the chunk's 100 ms */
  assert_int_equal(every, 1);
  mr__sizer f;
  mr__sizer_init(&f, 8, 4); /* -c 8: the user's chunks are never split */
  mr__sizer_observe(&f, 8, 800);
  mr__sizer_budget(&f, 8, 1, &us, &every);
  assert_int_equal(us, 0);
}

static void test_cost_and_rank_depth(void **st) {
  (void)st;
  mr__sizer s;
  mr__sizer_init(&s, 0, 2);
  assert_true(mr__sizer_cost_ns(&s, 10) < 0); /* nothing measured */
  assert_int_equal(mr__sizer_chunk_items(&s), 1);
  mr__sizer_observe(&s, 2, 2000);
  assert_true(mr__sizer_cost_ns(&s, 10) == 10000);
  mr__sizer_init(&s, 7, 2);
  assert_int_equal(mr__sizer_chunk_items(&s), 7); /* -c N */
  assert_int_equal(mr__sizer_rank_depth(1), 3);
  assert_int_equal(mr__sizer_rank_depth(0), 3);
  assert_int_equal(mr__sizer_rank_depth(4), 9);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cost_and_rank_depth),
      cmocka_unit_test(test_first_chunk_is_one_item),
      cmocka_unit_test(test_grows_gently_to_the_target),
      cmocka_unit_test(test_long_items_go_alone),
      cmocka_unit_test(test_tail_shrinks_but_not_below_half_a_ms),
      cmocka_unit_test(test_a_cheap_first_item_misleads_nothing),
      cmocka_unit_test(test_a_stuck_rank_ends_the_learning),
      cmocka_unit_test(test_items_per_chunk_follows_the_cost),
      cmocka_unit_test(test_fixed_size_is_honoured),
      cmocka_unit_test(test_chunks_grow_with_many_ranks),
      cmocka_unit_test(test_budget),
      cmocka_unit_test(test_depth),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
