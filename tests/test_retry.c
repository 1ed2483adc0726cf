/* test_retry.c: the planner of items that go round again, without MPI:
 * results in, attempts and answered chunks out. */
#include "tu.h"

#include "farm/retry.h"
#include "farm/sizer.h"

static const mr__retry_stop RUNNING = {0, 1, 0};

/* A result message of n items: status[i] and out[i] ("" when NULL). */
static void result(mr_buf *b, uint32_t n, const int32_t *status, const char *const *out) {
  b->len = 0;
  mr__result_hdr h = {0, n, 0, 0, 0, 0, 0};
  for (uint32_t i = 0; i < n; i++) h.nfail += status[i] != 0;
  assert_int_equal(mr_buf_append(b, &h, sizeof h), 0);
  for (uint32_t i = 0; i < n; i++) {
    mr__rec r = {status[i], out && out[i] ? (uint32_t)strlen(out[i]) : 0};
    assert_int_equal(mr_buf_append(b, &r, sizeof r), 0);
  }
  for (uint32_t i = 0; i < n; i++)
    if (out && out[i]) assert_int_equal(mr_buf_append(b, out[i], strlen(out[i])), 0);
}

/* n targets, target i on node nodes[i], room for 4 chunks each */
static void places_init(mr__retry_place *p, int n, const int *nodes) {
  for (int i = 0; i < n; i++) p[i] = (mr__retry_place){nodes[i], 0, 4, 0};
}

/* A planner of nparents chunks over n targets (on nodes[i]). */
static void setup(mr__retry *r, uint32_t nparents, int retries, mr__retry_place *p,
                  int n, const int *nodes) {
  assert_int_equal(mr__retry_init(r, nparents, n, retries), 0);
  places_init(p, n, nodes);
}

/* The result in b came back for parent from target ran_on, the run going
 * on: how many of its items go round again. */
static uint32_t plan(mr__retry *r, uint32_t parent, const mr_buf *b, int ran_on) {
  uint32_t queued = 99;
  assert_int_equal(mr__retry_plan(r, parent, 0, b->data, ran_on, RUNNING, &queued), 0);
  return queued;
}

/* Sends the next attempt, which must go to target want; returns its id. */
static uint32_t next_to(mr__retry *r, mr__retry_place *p, int want) {
  int id = mr__retry_next(r, p, 0, UINT32_MAX);
  assert_true(id >= 0);
  assert_int_equal(mr__retry_attempt_of(r, (uint32_t)id)->target, want);
  return (uint32_t)id;
}

static void test_failed_item_retried_n_times_then_failed(void **st) {
  (void)st;
  mr__retry r;
  mr__retry_place p[2];
  setup(&r, 4, 2, p, 2, (const int[]){0, 1});
  mr_buf b = {0}, a = {0};
  result(&b, 3, (const int32_t[]){0, MR_EJOB, 0}, (const char *const[]){"a", "x", "c"});
  assert_int_equal(plan(&r, 2, &b, 0), 1);
  for (int run = 1; run <= 2; run++) {
    /* away from the target that failed it: to 1, then back to 0 */
    uint32_t id = next_to(&r, p, run % 2);
    const mr__retry_attempt *at = mr__retry_attempt_of(&r, id);
    assert_int_equal(at->parent, 2);
    assert_int_equal(at->pos, 1);
    assert_int_equal(at->count, 1);
    assert_int_equal(at->attempt, run);
    assert_int_equal(mr__retry_next(&r, p, 0, UINT32_MAX), -1); /* nothing else */
    assert_int_equal(mr__retry_done_next(&r), -1);
    result(&a, 1, (const int32_t[]){MR_EJOB}, (const char *const[]){run == 1 ? "y" : "z"});
    assert_int_equal(mr__retry_arrived(&r, id, a.data, 20 + run, RUNNING), 0);
    assert_null(mr__retry_attempt_of(&r, id));
  }
  /* two retries: the third failure is the answer */
  assert_false(mr__retry_pending(&r));
  assert_int_equal(mr__retry_done_next(&r), 2);
  assert_int_equal(mr__retry_done_next(&r), -1);
  int *ranks = NULL;
  assert_int_equal(mr__retry_finish(&r, 2, &b, 10, &ranks), 1);
  const mr__result_hdr *h = (const void *)b.data;
  assert_int_equal(h->nfail, 1);
  assert_int_equal(result_recs(h)[1].status, MR_EJOB);
  assert_memory_equal(mr__result_data(h), "azc", 3);
  assert_non_null(ranks);
  assert_int_equal(ranks[0], 10);
  assert_int_equal(ranks[1], 22); /* the rank of the answer */
  assert_int_equal(ranks[2], 10);
  free(ranks);
  mr_buf_free(&a);
  mr_buf_free(&b);
  mr__retry_free(&r);
}

static void test_item_failing_for_the_job_is_not_retried(void **st) {
  (void)st;
  mr__retry r;
  assert_int_equal(mr__retry_init(&r, 1, 2, 3), 0);
  mr_buf b = {0};
  result(&b, 2, (const int32_t[]){MR_EINVAL, MR_ESKIPPED}, NULL);
  assert_int_equal(plan(&r, 0, &b, 0), 0);
  assert_false(mr__retry_pending(&r));
  assert_false(mr__retriable(MR_EINVAL));
  assert_true(mr__retriable(MR_EJOB));
  mr_buf_free(&b);
  mr__retry_free(&r);
}

static void test_attempt_goes_to_the_least_loaded_other_host(void **st) {
  (void)st;
  mr__retry r;
  mr__retry_place p[4];
  setup(&r, 1, 1, p, 4, (const int[]){0, 0, 2, 2});
  p[1].inflight = 0; /* same host, idle: not chosen */
  p[2].inflight = 2;
  p[3].inflight = 1;
  mr_buf b = {0};
  result(&b, 2, (const int32_t[]){MR_EJOB, MR_EJOB}, NULL);
  assert_int_equal(plan(&r, 0, &b, 0), 2);
  next_to(&r, p, 3);
  assert_int_equal(p[3].inflight, 2); /* counted */
  next_to(&r, p, 2);                  /* 2 and 2: the first in turn */
  /* the other host full: the attempt waits for it */
  p[2].most = p[2].inflight;
  p[3].most = p[3].inflight;
  result(&b, 1, (const int32_t[]){MR_EJOB}, NULL);
  mr__retry_free(&r);
  assert_int_equal(mr__retry_init(&r, 1, 4, 1), 0);
  plan(&r, 0, &b, 0);
  assert_int_equal(mr__retry_next(&r, p, 0, UINT32_MAX), -1);
  assert_true(mr__retry_pending(&r));
  mr_buf_free(&b);
  mr__retry_free(&r);
}

static void test_attempt_on_one_host_goes_to_another_rank(void **st) {
  (void)st;
  mr__retry r;
  mr__retry_place p[3];
  setup(&r, 1, 1, p, 3, (const int[]){0, 0, 0});
  p[0].inflight = 0;
  p[1].inflight = 3;
  p[2].inflight = 1;
  mr_buf b = {0};
  result(&b, 1, (const int32_t[]){MR_EJOB}, NULL);
  plan(&r, 0, &b, 0);
  next_to(&r, p, 2); /* not the failing one, though idle */
  mr_buf_free(&b);
  mr__retry_free(&r);
  /* alone, the failing target takes it again */
  assert_int_equal(mr__retry_init(&r, 1, 1, 1), 0);
  result(&b, 1, (const int32_t[]){MR_EJOB}, NULL);
  plan(&r, 0, &b, 0);
  next_to(&r, p, 0);
  mr_buf_free(&b);
  mr__retry_free(&r);
}

static void test_handed_back_items_go_in_pieces_the_sizer_says(void **st) {
  (void)st;
  mr__retry r;
  mr__retry_place p[2];
  setup(&r, 1, 0, p, 2, (const int[]){0, 1});
  p[0].most = p[1].most = 100;
  int32_t status[10];
  for (int i = 0; i < 10; i++) status[i] = MR__NOTRUN;
  mr_buf b = {0};
  result(&b, 10, status, NULL);
  assert_int_equal(plan(&r, 0, &b, 0), 10);
  /* planned 1,1,2,2,4 over two targets; the sizer says 2 items a chunk */
  mr__sizer s;
  mr__sizer_init(&s, 0, 2);
  mr__sizer_observe(&s, 1, 2000000);
  uint32_t most = mr__sizer_items_per_chunk(&s);
  assert_int_equal(most, 2);
  const uint32_t want[] = {1, 1, 2, 2, 2, 2};
  uint32_t pos = 0;
  for (int k = 0; k < 6; k++) {
    int id = mr__retry_next(&r, p, 0, most);
    assert_true(id >= 0);
    const mr__retry_attempt *a = mr__retry_attempt_of(&r, (uint32_t)id);
    assert_int_equal(a->pos, pos);
    assert_int_equal(a->count, want[k]);
    assert_int_equal(a->attempt, 0); /* a hand-back is no retry */
    pos += a->count;
  }
  assert_int_equal(pos, 10);
  assert_false(mr__retry_pending(&r));
  mr_buf_free(&b);
  mr__retry_free(&r);
}

static void test_answers_merge_into_their_chunk_in_order(void **st) {
  (void)st;
  mr__retry r;
  mr__retry_place p[2];
  setup(&r, 2, 1, p, 2, (const int[]){0, 1});
  mr_buf b = {0}, a = {0};
  result(&b, 4, (const int32_t[]){0, MR_EJOB, 0, MR__NOTRUN},
         (const char *const[]){"a", "bad\n", "c", NULL});
  assert_int_equal(plan(&r, 1, &b, 0), 2);
  uint32_t first = next_to(&r, p, 1);  /* item 1, away from target 0 */
  uint32_t second = next_to(&r, p, 0); /* item 3, the least loaded */
  assert_int_equal(mr__retry_attempt_of(&r, second)->pos, 3);
  /* the later item answers first */
  result(&a, 1, (const int32_t[]){0}, (const char *const[]){"DD"});
  assert_int_equal(mr__retry_arrived(&r, second, a.data, 5, RUNNING), 0);
  assert_int_equal(mr__retry_done_next(&r), -1);
  assert_int_equal(r.held, 2); /* the answer waits for its chunk */
  result(&a, 1, (const int32_t[]){0}, (const char *const[]){"BBB"});
  assert_int_equal(mr__retry_arrived(&r, first, a.data, 6, RUNNING), 0);
  assert_int_equal(mr__retry_done_next(&r), 1);
  int *ranks = NULL;
  assert_int_equal(mr__retry_finish(&r, 1, &b, 5, &ranks), 1);
  const mr__result_hdr *h = (const void *)b.data;
  assert_int_equal(h->n, 4);
  assert_int_equal(h->nfail, 0);
  const mr__rec *rec = result_recs(h);
  assert_int_equal(rec[1].len, 3);
  assert_int_equal(rec[3].len, 2);
  assert_int_equal(b.len, (size_t)(mr__result_data(h) - b.data) + 7);
  assert_memory_equal(mr__result_data(h), "aBBBcDD", 7);
  assert_int_equal(ranks[0], 5);
  assert_int_equal(ranks[1], 6);
  assert_int_equal(ranks[3], 5);
  assert_int_equal(r.held, 0);
  /* merged once: nothing more to merge */
  assert_int_equal(mr__retry_finish(&r, 1, &b, 5, &ranks), 0);
  free(ranks);
  mr_buf_free(&a);
  mr_buf_free(&b);
  mr__retry_free(&r);
}

static void test_abandon_on_stop(void **st) {
  (void)st;
  mr__retry r;
  mr__retry_place p[1];
  setup(&r, 2, 2, p, 1, (const int[]){0});
  mr_buf b = {0}, c = {0};
  result(&b, 3, (const int32_t[]){MR_EJOB, MR__NOTRUN, MR__NOTRUN}, NULL);
  result(&c, 2, (const int32_t[]){MR_EJOB, MR__NOTRUN}, NULL);
  assert_int_equal(plan(&r, 0, &b, 0), 3);
  assert_int_equal(plan(&r, 1, &c, 0), 2);
  /* a halt "soon": failures are not tried again, handed-back items are */
  mr__retry_abandon(&r, (mr__retry_stop){1, 1, 0});
  assert_true(mr__retry_pending(&r));
  assert_int_equal(mr__retry_done_next(&r), -1);
  /* a stop at once: the rest goes too, and both chunks are done */
  mr__retry_abandon(&r, (mr__retry_stop){1, 0, 0});
  assert_false(mr__retry_pending(&r));
  assert_int_equal(mr__retry_done_next(&r), 0);
  assert_int_equal(mr__retry_done_next(&r), 1);
  assert_int_equal(mr__retry_done_next(&r), -1);
  /* with their failures and unrun items as they came back */
  int *ranks = NULL;
  assert_int_equal(mr__retry_finish(&r, 0, &b, 0, &ranks), 0);
  assert_null(ranks);
  assert_int_equal(result_recs(b.data)[1].status, MR__NOTRUN);
  /* stopping: a failure that comes back now is not planned again */
  uint32_t queued = 9;
  assert_int_equal(mr__retry_plan(&r, 1, 0, c.data, 0, (mr__retry_stop){1, 0, 0}, &queued), 0);
  assert_int_equal(queued, 0);
  mr_buf_free(&b);
  mr_buf_free(&c);
  mr__retry_free(&r);
}

static void test_an_attempt_handed_back_goes_again(void **st) {
  (void)st;
  mr__retry r;
  mr__retry_place p[1];
  setup(&r, 1, 0, p, 1, (const int[]){0});
  mr_buf b = {0}, a = {0};
  result(&b, 2, (const int32_t[]){MR__NOTRUN, MR__NOTRUN}, NULL);
  plan(&r, 0, &b, 0);
  uint32_t id = (uint32_t)mr__retry_next(&r, p, 0, UINT32_MAX);
  assert_int_equal(mr__retry_attempt_of(&r, id)->count, 1);
  uint32_t id2 = (uint32_t)mr__retry_next(&r, p, 0, UINT32_MAX);
  result(&a, 1, (const int32_t[]){MR__NOTRUN}, NULL);
  assert_int_equal(mr__retry_arrived(&r, id, a.data, 0, RUNNING), 0);
  assert_true(mr__retry_pending(&r)); /* handed back again: queued again */
  result(&a, 1, (const int32_t[]){0}, (const char *const[]){"y"});
  assert_int_equal(mr__retry_arrived(&r, id2, a.data, 0, RUNNING), 0);
  assert_int_equal(mr__retry_done_next(&r), -1);
  id = (uint32_t)mr__retry_next(&r, p, 0, UINT32_MAX);
  result(&a, 1, (const int32_t[]){0}, (const char *const[]){"x"});
  assert_int_equal(mr__retry_arrived(&r, id, a.data, 0, RUNNING), 0);
  assert_int_equal(mr__retry_done_next(&r), 0);
  int *ranks = NULL;
  assert_int_equal(mr__retry_finish(&r, 0, &b, 0, &ranks), 1);
  assert_null(ranks); /* all on the chunk's own rank */
  assert_memory_equal(mr__result_data(b.data), "xy", 2);
  mr_buf_free(&a);
  mr_buf_free(&b);
  mr__retry_free(&r);
}

/* --halt now after item 101: handed-back items before it still go round
 * again (the output goes on up to the failure), those after it do not */
static void test_a_halt_now_keeps_the_items_before_it(void **st) {
  (void)st;
  mr__retry r;
  mr__retry_place p[1];
  setup(&r, 2, 0, p, 1, (const int[]){0});
  const mr__retry_stop halted = {1, 0, 102};
  mr_buf b = {0}, c = {0};
  result(&b, 4, (const int32_t[]){0, MR__NOTRUN, MR__NOTRUN, MR__NOTRUN}, NULL);
  uint32_t queued = 9;
  assert_int_equal(mr__retry_plan(&r, 0, 100, b.data, 0, halted, &queued), 0);
  assert_int_equal(queued, 1); /* item 101 */
  result(&c, 2, (const int32_t[]){MR__NOTRUN, MR__NOTRUN}, NULL);
  assert_int_equal(mr__retry_plan(&r, 1, 200, c.data, 0, halted, &queued), 0);
  assert_int_equal(queued, 0); /* done as it came back */
  /* the queue abandoned at the halt keeps item 101's piece */
  mr__retry_abandon(&r, halted);
  assert_true(mr__retry_pending(&r));
  mr__retry_abandon(&r, (mr__retry_stop){1, 0, 0}); /* then a signal */
  assert_false(mr__retry_pending(&r));
  assert_int_equal(mr__retry_done_next(&r), 0);
  mr_buf_free(&b);
  mr_buf_free(&c);
  mr__retry_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_failed_item_retried_n_times_then_failed),
      cmocka_unit_test(test_item_failing_for_the_job_is_not_retried),
      cmocka_unit_test(test_attempt_goes_to_the_least_loaded_other_host),
      cmocka_unit_test(test_attempt_on_one_host_goes_to_another_rank),
      cmocka_unit_test(test_handed_back_items_go_in_pieces_the_sizer_says),
      cmocka_unit_test(test_answers_merge_into_their_chunk_in_order),
      cmocka_unit_test(test_abandon_on_stop),
      cmocka_unit_test(test_an_attempt_handed_back_goes_again),
      cmocka_unit_test(test_a_halt_now_keeps_the_items_before_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
