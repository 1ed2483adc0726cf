/* test_chunk.c: the work and result messages, and computing a chunk. */
#include "tu.h"

#include "farm/chunk.h"

/* a kernel that upper-cases items and fails on "bad" */
static int upper_run(void *st, const char *item, size_t len, uint64_t seq,
                     mr_buf *out, mr__times *t) {
  (void)st;
  (void)t;
  if (len == 3 && memcmp(item, "bad", 3) == 0) {
    mr_buf_printf(out, "no good (seq %llu)", (unsigned long long)seq);
    return MR_EINVAL;
  }
  for (size_t i = 0; i < len; i++) {
    char c = item[i] >= 'a' && item[i] <= 'z' ? (char)(item[i] - 32) : item[i];
    if (mr_buf_append(out, &c, 1)) return MR_ENOMEM;
  }
  return 0;
}

/* a kernel whose item "slow" takes 20 ms */
static int slow_run(void *st, const char *item, size_t len, uint64_t seq,
                    mr_buf *out, mr__times *t) {
  (void)st;
  (void)seq;
  (void)t;
  if (len == 4 && memcmp(item, "slow", 4) == 0) {
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
  }
  return mr_buf_append(out, item, len);
}

static mr_buf make_work(void) {
  mr_buf w = {0};
  mr__work_begin(&w, 7, 100, MR__WORK_TIMES, 3, 2.5);
  assert_int_equal(work_add(&w, "ab", 2, 0), 0);
  assert_int_equal(work_add(&w, "bad", 3, 0), 0);
  assert_int_equal(work_add(&w, "", 0, MR_ETOOLONG), 0);
  assert_int_equal(work_add(&w, "x\0y", 3, 0), 0);
  return w;
}

static void test_work_round_trip(void **st) {
  (void)st;
  mr_buf w = make_work();
  const mr__work_hdr *h = work_hdr(&w);
  assert_int_equal(h->id, 7);
  assert_int_equal(h->seq0, 100);
  assert_int_equal(h->n, 4);
  assert_int_equal(h->slot, 3);
  assert_true(h->timeout_s == 2.5);
  assert_int_equal(mr__work_check(w.data, w.len), 0);
  const char *p = work_items(w.data), *text;
  size_t len;
  assert_int_equal(work_next(&p, &text, &len), 0);
  assert_int_equal(len, 2);
  assert_string_equal(text, "ab"); /* NUL-terminated for kernels */
  assert_int_equal(work_next(&p, &text, &len), 0);
  assert_int_equal(len, 3);
  assert_int_equal(work_next(&p, &text, &len), MR_ETOOLONG);
  assert_int_equal(work_next(&p, &text, &len), 0);
  assert_int_equal(len, 3);
  assert_memory_equal(text, "x\0y", 3);
  assert_ptr_equal(p, w.data + w.len);
  assert_memory_equal(work_last(w.data, &len), "x\0y", 3);
  assert_int_equal(len, 3);
  mr_buf_free(&w);
}

static void test_work_check_rejects_damage(void **st) {
  (void)st;
  mr_buf w = make_work();
  assert_int_equal(mr__work_check(w.data, sizeof(mr__work_hdr) - 1), MR_EINVAL);
  assert_int_equal(mr__work_check(w.data, w.len - 1), MR_EINVAL);
  /* an item length that runs past the end */
  char *copy = malloc(w.len);
  memcpy(copy, w.data, w.len);
  uint32_t huge = 1u << 30;
  memcpy(copy + sizeof(mr__work_hdr) + 1, &huge, sizeof huge);
  assert_int_equal(mr__work_check(copy, w.len), MR_EINVAL);
  /* a count that does not match the items */
  memcpy(copy, w.data, w.len);
  ((mr__work_hdr *)(void *)copy)->n = 5;
  assert_int_equal(mr__work_check(copy, w.len), MR_EINVAL);
  /* a last item that is not where the last item starts */
  memcpy(copy, w.data, w.len);
  ((mr__work_hdr *)(void *)copy)->last = 0;
  assert_int_equal(mr__work_check(copy, w.len), MR_EINVAL);
  free(copy);
  mr_buf_free(&w);
}

static void test_compute_records_each_item(void **st) {
  (void)st;
  mr_buf w = make_work(), r = {0};
  mr__kernel k = {NULL, NULL, NULL, upper_run, NULL};
  assert_int_equal(mr__chunk_compute(&k, NULL, w.data, &r), 0);
  assert_int_equal(mr__result_check(r.data, r.len), 0);
  const mr__result_hdr *h = result_hdr(&r);
  assert_int_equal(h->id, 7);
  assert_int_equal(h->slot, 3);
  assert_int_equal(h->n, 4);
  assert_int_equal(h->nfail, 2); /* "bad" and the too-long line */
  const mr__rec *rec = result_recs(r.data);
  assert_int_equal(rec[0].status, 0);
  assert_int_equal(rec[0].len, 2);
  assert_int_equal(rec[1].status, MR_EINVAL);
  assert_int_equal(rec[2].status, MR_ETOOLONG);
  assert_int_equal(rec[2].len, 0); /* never run */
  assert_int_equal(rec[3].status, 0);
  const char *d = mr__result_data(r.data);
  assert_memory_equal(d, "AB", 2);
  assert_memory_equal(d + 2, "no good (seq 101)", rec[1].len);
  assert_memory_equal(d + 2 + rec[1].len, "X\0Y", 3);
  const mr__times *t = mr__result_times(r.data);
  assert_non_null(t);
  assert_true(t[0].start > 1e9); /* wall clock */
  assert_true(t[0].runtime >= 0);
  assert_true(t[3].limit == 2.5);
  mr_buf_free(&w);
  mr_buf_free(&r);
}

static void test_result_check_rejects_damage(void **st) {
  (void)st;
  mr_buf w = make_work(), r = {0};
  mr__kernel k = {NULL, NULL, NULL, upper_run, NULL};
  assert_int_equal(mr__chunk_compute(&k, NULL, w.data, &r), 0);
  assert_int_equal(mr__result_check(r.data, r.len - 1), MR_EINVAL);
  assert_int_equal(mr__result_check(r.data, 4), MR_EINVAL);
  mr_buf_free(&w);
  mr_buf_free(&r);
}

static void test_no_times_unless_asked(void **st) {
  (void)st;
  mr_buf w = {0}, r = {0};
  mr__work_begin(&w, 1, 0, 0, 0, 0);
  assert_int_equal(work_add(&w, "q", 1, 0), 0);
  mr__kernel k = {NULL, NULL, NULL, upper_run, NULL};
  assert_int_equal(mr__chunk_compute(&k, NULL, w.data, &r), 0);
  assert_null(mr__result_times(r.data));
  assert_memory_equal(mr__result_data(r.data), "Q", 1);
  mr_buf_free(&w);
  mr_buf_free(&r);
}

/* Past its budget a chunk stops starting items: the rest come back unrun,
 * with no output, for the master to send again. */
static void test_overrun_hands_back_the_rest(void **st) {
  (void)st;
  mr_buf w = {0}, r = {0};
  mr__work_begin(&w, 1, 0, MR__WORK_TIMES, 0, 0);
  const char *items[] = {"a", "slow", "b", "c", "d"};
  for (int i = 0; i < 5; i++)
    assert_int_equal(work_add(&w, items[i], strlen(items[i]), 0), 0);
  work_hdr(&w)->budget_us = 5000; /* 5 ms */
  work_hdr(&w)->check_every = 1;
  mr__kernel k = {NULL, NULL, NULL, slow_run, NULL};
  assert_int_equal(mr__chunk_compute(&k, NULL, w.data, &r), 0);
  assert_int_equal(mr__result_check(r.data, r.len), 0);
  const mr__result_hdr *h = result_hdr(&r);
  assert_int_equal(h->n, 5);
  assert_int_equal(h->nfail, 3);
  assert_int_equal(mr__result_unrun(r.data), 3);
  const mr__rec *rec = result_recs(r.data);
  assert_int_equal(rec[0].status, 0);
  assert_int_equal(rec[1].status, 0); /* a started item always finishes */
  for (int i = 2; i < 5; i++) {
    assert_int_equal(rec[i].status, MR__NOTRUN);
    assert_int_equal(rec[i].len, 0);
  }
  assert_memory_equal(mr__result_data(r.data), "aslow", 5);
  /* the same chunk without a budget runs whole */
  work_hdr(&w)->budget_us = 0;
  assert_int_equal(mr__chunk_compute(&k, NULL, w.data, &r), 0);
  assert_int_equal(result_hdr(&r)->nfail, 0);
  assert_int_equal(mr__result_unrun(r.data), 0);
  /* the clock read every 64 items: a piece of 5 still looks (after each
   * quarter of it, here every item) */
  work_hdr(&w)->budget_us = 5000;
  work_hdr(&w)->check_every = 64;
  assert_int_equal(mr__chunk_compute(&k, NULL, w.data, &r), 0);
  assert_int_equal(mr__result_unrun(r.data), 3);
  mr_buf_free(&w);
  mr_buf_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_work_round_trip),
      cmocka_unit_test(test_work_check_rejects_damage),
      cmocka_unit_test(test_compute_records_each_item),
      cmocka_unit_test(test_result_check_rejects_damage),
      cmocka_unit_test(test_no_times_unless_asked),
      cmocka_unit_test(test_overrun_hands_back_the_rest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
