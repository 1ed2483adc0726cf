/* test_heap.c: the heap on transparent huge pages. */
#include "tu.h"

#include "cli/heap.h"

static unsigned long set_bytes; /* what main's first call returned */

/* The VmFlags line of the mapping that holds p, from /proc/self/smaps. */
static int flags_of(const void *p, char *flags, size_t cap) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f) return -1;
  char line[512];
  int inside = 0, found = -1;
  uintptr_t a = (uintptr_t)p;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      inside = a >= lo && a < hi;
    } else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
      snprintf(flags, cap, "%.200s", line + 8);
      found = 0;
      break;
    }
  }
  fclose(f);
  return found;
}

static void test_chunk_buffers_land_on_huge_pages(void **st) {
  (void)st;
  if (!mr__heap_thp_enabled() || set_bytes == 0) {
#if !defined(__SANITIZE_ADDRESS__)
    if (mr__heap_thp_enabled()) fail_msg("huge pages are on here, and the heap was not set");
#endif
    skip();
  }
  assert_true(set_bytes >= (32ul << 20)); /* most of the 64 MiB reserve */
  /* 8 MiB of 64 KiB chunk buffers: the heap below the reserve's first
   * 2 MiB boundary stays on small pages (under 2 MiB, and what the top
   * held before: at most 40 of these), the rest is huge */
  enum { N = 128 };
  char *b[N];
  int huge = 0;
  for (int i = 0; i < N; i++) {
    b[i] = malloc(64u << 10);
    assert_non_null(b[i]);
    memset(b[i], 1, 64u << 10);
    char flags[512];
    assert_int_equal(flags_of(b[i], flags, sizeof flags), 0);
    huge += strstr(flags, " hg") != NULL;
  }
  if (huge < N - 48) fail_msg("%d of %d 64 KiB buffers on huge pages", huge, N);
  for (int i = 0; i < N; i++) free(b[i]);
  /* 3 MiB, over glibc's 128 KiB threshold for a mapping of its own: in
   * the heap too, its end past any small-page start */
  size_t big = 3u << 20;
  char *p = malloc(big);
  assert_non_null(p);
  char flags[512];
  assert_int_equal(flags_of(p + big - 1, flags, sizeof flags), 0);
  if (!strstr(flags, " hg")) fail_msg("3 MiB block at %p: VmFlags%s", (void *)p, flags);
  free(p);
}

static void test_again_sets_nothing_twice(void **st) {
  (void)st;
  /* the heap does not grow by the reserve again: a second call only
   * reaches memory the first one set, or nothing */
  unsigned long again = mr__heap_hugepages();
  assert_true(again == 0 || again >= (32ul << 20));
  char *b = malloc(100);
  assert_non_null(b);
  free(b);
}

int main(void) {
  set_bytes = mr__heap_hugepages(); /* first thing, as the program does */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chunk_buffers_land_on_huge_pages),
      cmocka_unit_test(test_again_sets_nothing_twice),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
