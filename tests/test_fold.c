/* test_fold.c: what the folding kernel does with one item's result (-r:
 * columns; keyed: pairs, all or none; wordcount's words), and the map of
 * keys it folds them into, sorted as the output is. */
#include "tu.h"

#include "reduce/fold.h"

static char *line_of(mr__op op, const mr__acc *cols, size_t n) {
  mr_buf out = {0};
  assert_int_equal(mr__fold_line(op, cols, n, &out), 0);
  return out.data;
}

static void test_results_fold_by_column(void **st) {
  (void)st;
  mr__acc *cols = NULL;
  size_t n = 0;
  mr_buf why = {0};
  assert_int_equal(mr__fold_result(MR__OP_SUM, &cols, &n, "1\t2.5\n", 6, 0, &why), 0);
  assert_int_equal(mr__fold_result(MR__OP_SUM, &cols, &n, "10\t0.5\t7", 8, 1, &why), 0);
  char *line = line_of(MR__OP_SUM, cols, n);
  assert_string_equal(line, "11\t3.0\t7\n");
  free(line);
  /* a bad column leaves the whole item out */
  assert_int_equal(mr__fold_result(MR__OP_SUM, &cols, &n, "5\tx", 3, 2, &why), MR_EINVAL);
  assert_non_null(strstr(why.data, "not 'x'"));
  why.len = 0;
  assert_int_equal(mr__fold_result(MR__OP_SUM, &cols, &n, "1\n2\n", 4, 3, &why), MR_EINVAL);
  assert_non_null(strstr(why.data, "several lines"));
  line = line_of(MR__OP_SUM, cols, n);
  assert_string_equal(line, "11\t3.0\t7\n");
  free(line);
  for (size_t i = 0; i < n; i++) mr__acc_free(&cols[i]);
  free(cols);
  line = line_of(MR__OP_COUNT, NULL, 0);
  assert_string_equal(line, "0\n"); /* nothing: one column */
  free(line);
  mr_buf_free(&why);
}

/* KEY<TAB>VALUE lines of kv, sorted. */
static char *dump(mr__op op, mr__kv *kv) {
  mr__kv_entry **v = mr__kv_sorted(kv);
  mr_buf out = {0};
  for (size_t i = 0; i < mr__kv_count(kv); i++)
    assert_int_equal(mr__fold_pair_line(op, v[i], &out), 0);
  free(v);
  mr_buf_puts(&out, "");
  return out.data;
}

static void test_pairs_fold_all_or_none(void **st) {
  (void)st;
  mr__kv *kv = mr__kv_new();
  mr_buf why = {0};
  const char *a = "b\t1\r\na b\t2\n\nb\t3\nc\n";
  assert_int_equal(mr__fold_pairs(MR__OP_CONCAT, kv, a, strlen(a), 0, &why), 0);
  char *got = dump(MR__OP_CONCAT, kv);
  assert_string_equal(got, "a b\t2\nb\t1,3\nc\t\n"); /* no tab: an empty value */
  free(got);
  mr__kv_free(kv);
  kv = mr__kv_new();
  const char *bad = "x\t1\ny\tz\n";
  assert_int_equal(mr__fold_pairs(MR__OP_SUM, kv, bad, strlen(bad), 0, &why), MR_EINVAL);
  assert_non_null(strstr(why.data, "pair 2"));
  assert_int_equal(mr__kv_count(kv), 0); /* x was not folded either */
  mr__kv_free(kv);
  mr_buf_free(&why);
}

static void test_words_are_runs_of_bytes_other_than_blanks(void **st) {
  (void)st;
  mr__kv *kv = mr__kv_new();
  const char *t = "  café\tcafé  naïve\r日本 a,b a,b\n";
  assert_int_equal(mr__fold_words(MR__OP_SUM, kv, t, strlen(t), 0), 0);
  char *got = dump(MR__OP_SUM, kv);
  assert_string_equal(got, "a,b\t2\ncafé\t2\nnaïve\t1\n日本\t1\n");
  free(got);
  mr__kv_free(kv);
}

static void test_map_grows_keeps_huge_keys_and_sorts_bytewise(void **st) {
  (void)st;
  mr__kv *kv = mr__kv_new();
  char key[32];
  for (int i = 0; i < 100000; i++) {
    int n = snprintf(key, sizeof key, "k%d", i);
    mr__kv_entry *e = mr__kv_get(kv, key, (size_t)n, mr__kv_hash(key, (size_t)n));
    assert_non_null(e);
    assert_int_equal(mr__acc_add(MR__OP_COUNT, &e->acc, "", 0, (mr__pos){0, 0}), 0);
  }
  size_t big = 3u << 20;
  char *huge = malloc(big);
  memset(huge, 'z', big);
  mr__kv_entry *e = mr__kv_get(kv, huge, big, mr__kv_hash(huge, big));
  assert_non_null(e);
  assert_int_equal(mr__kv_count(kv), 100001);
  e = mr__kv_get(kv, "k77", 3, mr__kv_hash("k77", 3));
  assert_int_equal(e->acc.n, 1); /* found again after the growth */
  mr__kv_entry **v = mr__kv_sorted(kv);
  for (size_t i = 1; i < mr__kv_count(kv); i++)
    assert_true(mr__kv_keycmp(v[i - 1]->key, v[i - 1]->klen, v[i]->key, v[i]->klen) < 0);
  assert_int_equal(v[mr__kv_count(kv) - 1]->klen, big);
  assert_int_equal(mr__kv_keycmp("ab", 2, "abc", 3), -1); /* a prefix first */
  assert_true(mr__kv_keycmp("\xc3\xa9", 2, "z", 1) > 0);  /* bytes, unsigned */
  free(v);
  free(huge);
  mr__kv_free(kv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_results_fold_by_column),
      cmocka_unit_test(test_pairs_fold_all_or_none),
      cmocka_unit_test(test_words_are_runs_of_bytes_other_than_blanks),
      cmocka_unit_test(test_map_grows_keeps_huge_keys_and_sorts_bytewise),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
