/* test_source.c: the input's lines as numbered items, minus what an earlier
 * run finished; a changed input is refused before anything runs. */
#include "tu.h"

#include "doneset.h"
#include "input.h"
#include "source.h"

static uint64_t h(const char *s) { return doneset_hash(s, strlen(s)); }

static mr__input *open_text(const char *name, const char *text) {
  char path[128];
  tu_write(tu_path(path, sizeof path, name), text, strlen(text));
  int err = 0;
  mr__input *in = input_open(path, 0, &err);
  assert_non_null(in);
  return in;
}

static void test_numbers_items_and_lines(void **st) {
  (void)st;
  mr__src s;
  memset(&s, 0, sizeof s);
  s.in = open_text("a.txt", "10\n\n# note\n11\n12\n");
  mr__source src = src_source(&s);
  mr__item it;
  assert_int_equal(src.next(src.ctx, &it), 1);
  assert_int_equal(it.seq, 0);
  assert_int_equal(it.tag, 1); /* line number */
  assert_int_equal(src.next(src.ctx, &it), 1);
  assert_int_equal(it.seq, 1); /* items are counted, not lines */
  assert_int_equal(it.tag, 4);
  assert_memory_equal(it.text, "11", 2);
  assert_int_equal(src.next(src.ctx, &it), 1);
  assert_int_equal(src.next(src.ctx, &it), 0);
  assert_int_equal(src.remaining(src.ctx), 0);
  input_free(s.in);
  src_free(&s);
}

static void test_resume_skips_what_is_done(void **st) {
  (void)st;
  mr__jrec recs[] = {{0, 2, 0, 10, h("10"), h("11"), 0, 0},
                     {3, 4, 10, 15, h("13"), h("13"), 0, 1}};
  mr__doneset d;
  assert_int_equal(doneset_build(&d, recs, 2), 0);
  mr__src s;
  memset(&s, 0, sizeof s);
  s.in = open_text("b.txt", "10\n11\n12\n13\n14\n");
  s.done = &d;
  assert_int_equal(src_verify(&s), 0);
  input_free(s.in);
  memset(&s, 0, sizeof s);
  s.in = open_text("b.txt", "10\n11\n12\n13\n14\n");
  s.done = &d;
  mr__source src = src_source(&s);
  mr__item it;
  assert_int_equal(src.next(src.ctx, &it), 1);
  assert_int_equal(it.seq, 2);
  assert_memory_equal(it.text, "12", 2);
  assert_int_equal(src.next(src.ctx, &it), 1);
  assert_int_equal(it.seq, 4);
  assert_int_equal(it.tag, 5);
  assert_int_equal(src.next(src.ctx, &it), 0);
  assert_int_equal(s.skipped, 3);
  input_free(s.in);
  src_free(&s);
  doneset_free(&d);
}

static void test_changed_input_is_refused(void **st) {
  (void)st;
  mr__jrec recs[] = {{0, 3, 0, 10, h("10"), h("12"), 0, 0}};
  mr__doneset d;
  assert_int_equal(doneset_build(&d, recs, 1), 0);
  mr__src s;
  memset(&s, 0, sizeof s);
  s.in = open_text("c.txt", "10\n11\n99\n13\n");
  s.done = &d;
  assert_int_equal(src_verify(&s), MR_EINVAL);
  assert_non_null(strstr(s.why.data, "c.txt:3: this is not the input"));
  input_free(s.in);
  src_free(&s);
  /* shorter than what the run recorded */
  memset(&s, 0, sizeof s);
  d.cursor = 0;
  s.in = open_text("d.txt", "10\n");
  s.done = &d;
  assert_int_equal(src_verify(&s), MR_EINVAL);
  assert_non_null(strstr(s.why.data, "shorter"));
  input_free(s.in);
  src_free(&s);
  doneset_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_numbers_items_and_lines),
      cmocka_unit_test(test_resume_skips_what_is_done),
      cmocka_unit_test(test_changed_input_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
