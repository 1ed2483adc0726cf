/* test_source.c: the input's lines as numbered items, minus what an earlier
 * run finished; a changed input is refused before anything runs. */
#include "tu.h"

#include "text/doneset.h"
#include "text/input.h"
#include "text/source.h"

static uint64_t h(const char *s) { return mr__doneset_hash(s, strlen(s)); }

/* The chain of a record's items, as the sink writes it. */
static uint64_t chain(const char *const *items, size_t n) {
  uint64_t c = 0;
  for (size_t i = 0; i < n; i++) c = mr__doneset_chain(c, h(items[i]));
  return c;
}

static mr__input *open_text(const char *name, const char *text) {
  char path[128];
  tu_write(tu_path(path, sizeof path, name), text, strlen(text));
  mr__input *in = NULL;
  assert_int_equal(mr__input_open(path, 0, &in, NULL), 0);
  assert_non_null(in);
  return in;
}

/* s reads text (as the file name) to resume the run d records. */
static void src_resuming(mr__src *s, mr__doneset *d, const char *name,
                         const char *text) {
  memset(s, 0, sizeof *s);
  d->cursor = 0;
  s->in = open_text(name, text);
  s->done = d;
}

static void src_close(mr__src *s) {
  mr__input_free(s->in);
  mr__src_free(s);
}

static void test_numbers_items_and_lines(void **st) {
  (void)st;
  mr__src s;
  memset(&s, 0, sizeof s);
  s.in = open_text("a.txt", "10\n\n# note\n11\n12\n");
  mr__source src = mr__src_source(&s);
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
  mr__input_free(s.in);
  mr__src_free(&s);
}

static void test_resume_skips_what_is_done(void **st) {
  (void)st;
  const char *first[] = {"10", "11"}, *second[] = {"13"};
  mr__jrec recs[] = {{0, 2, 0, 10, h("10"), chain(first, 2), 0, 0},
                     {3, 4, 10, 15, h("13"), chain(second, 1), 0, 1}};
  mr__doneset d;
  assert_int_equal(mr__doneset_build(&d, recs, 2), 0);
  mr__src s;
  memset(&s, 0, sizeof s);
  s.in = open_text("b.txt", "10\n11\n12\n13\n14\n");
  s.done = &d;
  assert_int_equal(mr__src_verify(&s), 0);
  mr__input_free(s.in);
  memset(&s, 0, sizeof s);
  s.in = open_text("b.txt", "10\n11\n12\n13\n14\n");
  s.done = &d;
  mr__source src = mr__src_source(&s);
  mr__item it;
  assert_int_equal(src.next(src.ctx, &it), 1);
  assert_int_equal(it.seq, 2);
  assert_memory_equal(it.text, "12", 2);
  assert_int_equal(src.next(src.ctx, &it), 1);
  assert_int_equal(it.seq, 4);
  assert_int_equal(it.tag, 5);
  assert_int_equal(src.next(src.ctx, &it), 0);
  assert_int_equal(s.skipped, 3);
  mr__input_free(s.in);
  mr__src_free(&s);
  mr__doneset_free(&d);
}

static void test_changed_input_is_refused(void **st) {
  (void)st;
  const char *items[] = {"10", "11", "12"};
  mr__jrec recs[] = {{0, 3, 0, 10, h("10"), chain(items, 3), 0, 0}};
  mr__doneset d;
  assert_int_equal(mr__doneset_build(&d, recs, 1), 0);
  mr__src s;
  src_resuming(&s, &d, "c.txt", "10\n11\n99\n13\n");
  assert_int_equal(mr__src_verify(&s), MR_EINVAL);
  assert_non_null(strstr(s.why.data, "c.txt:3: this is not the input"));
  src_close(&s);
  /* shorter than what the run recorded */
  src_resuming(&s, &d, "d.txt", "10\n");
  assert_int_equal(mr__src_verify(&s), MR_EINVAL);
  assert_non_null(strstr(s.why.data, "shorter"));
  src_close(&s);
  mr__doneset_free(&d);
}

/* Every item of a record counts, not only its first and last. */
static void test_every_item_is_checked(void **st) {
  (void)st;
  const char *items[] = {"10", "11", "12", "13"};
  mr__jrec recs[] = {{0, 4, 0, 20, h("10"), chain(items, 4), 0, 0}};
  const char *inputs[] = {"10\n99\n12\n13\n", "10\n12\n11\n13\n", "10\n11\n12\n13\n"};
  for (int i = 0; i < 3; i++) {
    mr__doneset d;
    assert_int_equal(mr__doneset_build(&d, recs, 1), 0);
    mr__src s;
    src_resuming(&s, &d, "e.txt", inputs[i]);
    assert_int_equal(mr__src_verify(&s), i < 2 ? MR_EINVAL : 0);
    if (i < 2) assert_non_null(strstr(s.why.data, "e.txt:4: this is not the input"));
    if (i < 2) assert_non_null(strstr(s.why.data, "lines 1-4"));
    src_close(&s);
    mr__doneset_free(&d);
  }
}

/* A stream is checked as it is read: the run itself refuses. */
static void test_stream_checked_as_read(void **st) {
  (void)st;
  const char *items[] = {"10", "11"};
  mr__jrec recs[] = {{0, 2, 0, 10, h("10"), chain(items, 2), 0, 0}};
  mr__doneset d;
  assert_int_equal(mr__doneset_build(&d, recs, 1), 0);
  mr__src s;
  src_resuming(&s, &d, "f.txt", "10\n"); /* shorter than the record */
  mr__source src = mr__src_source(&s);
  mr__item it;
  assert_int_equal(src.next(src.ctx, &it), MR_EINVAL);
  assert_non_null(strstr(s.why.data, "shorter"));
  src_close(&s);
  /* the output of a finished run: an item to run is refused */
  src_resuming(&s, &d, "g.txt", "10\n11\n12\n");
  s.finished_output = "out.txt";
  src = mr__src_source(&s);
  assert_int_equal(src.next(src.ctx, &it), MR_EINVAL);
  assert_non_null(strstr(s.why.data, "g.txt:3: refusing to resume: 'out.txt' holds a finished run"));
  src_close(&s);
  mr__doneset_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_numbers_items_and_lines),
      cmocka_unit_test(test_resume_skips_what_is_done),
      cmocka_unit_test(test_changed_input_is_refused),
      cmocka_unit_test(test_every_item_is_checked),
      cmocka_unit_test(test_stream_checked_as_read),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
