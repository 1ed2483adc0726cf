/* heap.c: the heap on transparent huge pages. */
#include "cli/heap.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)
#define HEAP_HUGE ((uintptr_t)64 << 20)
/* buffers up to this size come from the heap (glibc's default is 128 KiB,
 * raised as mapped blocks are freed); a block of its own would be fresh
 * 4 KiB pages again */
#define MMAP_FROM (4 << 20)
#define TOP_PAD_DEFAULT (128 << 10) /* glibc's default M_TOP_PAD */

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

int mr__heap_thp_enabled(void) {
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
  if (!f) return 0;
  char line[128] = "";
  int ok = fgets(line, sizeof line, f) != NULL;
  fclose(f);
  return ok && (strstr(line, "[always]") || strstr(line, "[madvise]"));
}

unsigned long mr__heap_hugepages(void) {
#ifdef SANITIZED
  return 0;
#else
  if (!mr__heap_thp_enabled()) return 0;
  mallopt(M_MMAP_THRESHOLD, MMAP_FROM);
  /* never hand the reserve back: regrown, it would be small pages */
  mallopt(M_TRIM_THRESHOLD, (int)(4 * HEAP_HUGE));
  mallopt(M_TOP_PAD, (int)HEAP_HUGE);
  uintptr_t before = (uintptr_t)sbrk(0);
  void *grow = malloc(MMAP_FROM / 4); /* more than the top holds: the heap grows */
  uintptr_t after = (uintptr_t)sbrk(0);
  mallopt(M_TOP_PAD, TOP_PAD_DEFAULT);
  /* only a heap that grew by the reserve: glibc falls back to mappings
   * when brk cannot grow, and the range would then be others' memory */
  int grew = grow && before != (uintptr_t)-1 && after != (uintptr_t)-1 &&
             after > before && after - before >= HEAP_HUGE;
  free(grow);
  if (!grew) return 0;
  uintptr_t lo = (before + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1); /* all it grew by */
  if (lo >= after || madvise((void *)lo, after - lo, MADV_HUGEPAGE)) return 0;
  return (unsigned long)(after - lo);
#endif
}
