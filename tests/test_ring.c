/* test_ring.c: the ordered output's ring: chunks come out in the order
 * they were sent, whatever order they finish in. */
#include "tu.h"

#include "farm/ring.h"

/* What the master's emit does: hands on every finished chunk at the head,
 * in order; returns how many, their slots in out. */
static int emit(mr__ring *r, const int *done, uint32_t *out) {
  int n = 0;
  uint32_t i;
  while (mr__ring_head(r, &i) && done[i]) {
    out[n++] = i;
    mr__ring_pop(r);
  }
  return n;
}

static void test_chunks_come_out_in_the_order_sent(void **st) {
  (void)st;
  mr__ring r;
  assert_int_equal(mr__ring_init(&r, 4), 0);
  int done[8] = {0};
  uint32_t out[8];
  /* slots are reused in any order: ids follow the sending */
  assert_int_equal(mr__ring_push(&r, 5), 0);
  assert_int_equal(mr__ring_push(&r, 2), 1);
  assert_int_equal(mr__ring_push(&r, 7), 2);
  done[7] = done[2] = 1; /* the later ones finish first */
  assert_int_equal(emit(&r, done, out), 0);
  done[5] = 1;
  assert_int_equal(emit(&r, done, out), 3);
  assert_int_equal(out[0], 5);
  assert_int_equal(out[1], 2);
  assert_int_equal(out[2], 7);
  assert_int_equal(emit(&r, done, out), 0); /* empty */
  mr__ring_free(&r);
}

static void test_full_ring_takes_no_more_until_the_head_goes(void **st) {
  (void)st;
  mr__ring r;
  assert_int_equal(mr__ring_init(&r, 3), 0);
  int done[8] = {0};
  uint32_t out[8];
  for (uint32_t i = 0; i < 3; i++) {
    assert_false(mr__ring_full(&r));
    mr__ring_push(&r, i);
  }
  assert_true(mr__ring_full(&r));
  done[1] = done[2] = 1;
  assert_int_equal(emit(&r, done, out), 0);
  assert_true(mr__ring_full(&r)); /* a slow head holds the rest */
  done[0] = 1;
  assert_int_equal(emit(&r, done, out), 3);
  assert_false(mr__ring_full(&r));
  /* and wraps round: ids go on, positions repeat */
  done[0] = done[1] = done[2] = 0;
  assert_int_equal(mr__ring_push(&r, 2), 3);
  assert_int_equal(mr__ring_push(&r, 0), 4);
  uint32_t head;
  assert_true(mr__ring_head(&r, &head));
  assert_int_equal(head, 2);
  done[0] = 1;
  assert_int_equal(emit(&r, done, out), 0);
  done[2] = 1;
  assert_int_equal(emit(&r, done, out), 2);
  assert_int_equal(out[0], 2);
  assert_int_equal(out[1], 0);
  mr__ring_free(&r);
}

static void test_stop_gives_up_the_rest_in_order(void **st) {
  (void)st;
  /* the stop's pass (master_emit_rest): every chunk, in order, done or not */
  mr__ring r;
  assert_int_equal(mr__ring_init(&r, 4), 0);
  mr__ring_push(&r, 3);
  mr__ring_push(&r, 1);
  mr__ring_push(&r, 0);
  uint32_t seen[4], n = 0, i;
  for (; mr__ring_head(&r, &i); mr__ring_pop(&r)) seen[n++] = i;
  assert_int_equal(n, 3);
  assert_int_equal(seen[0], 3);
  assert_int_equal(seen[1], 1);
  assert_int_equal(seen[2], 0);
  assert_false(mr__ring_head(&r, &i));
  mr__ring_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chunks_come_out_in_the_order_sent),
      cmocka_unit_test(test_full_ring_takes_no_more_until_the_head_goes),
      cmocka_unit_test(test_stop_gives_up_the_rest_in_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
