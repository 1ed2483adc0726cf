/* heap.h: the heap on transparent huge pages.
 * A rank's chunk buffers, reorder slots and received results are touched
 * for the first time during the run: ~1,600 fresh 4 KiB pages at -np 3 on
 * 1,000,000 random integers (~200 at -np 1), each a page fault. Where a
 * fault is dear (11 us on a VM: 18 ms of a 0.1 s run) that was the largest
 * cost -np 3 had over -np 1. On huge pages the same memory takes a few
 * faults. */
#ifndef MR_HEAP_H
#define MR_HEAP_H

/* Grows the heap once by a reserve of 64 MiB (virtual until touched) and
 * sets what it grew by to transparent huge pages, and keeps buffers
 * under 4 MiB in the heap rather than in mappings of their own; does
 * nothing where the kernel's huge pages are off or under a sanitizer's
 * allocator. Call first thing in main, before any thread starts. Returns
 * the bytes so set (0: none). */
unsigned long mr__heap_hugepages(void);

/* Whether the kernel gives huge pages to memory that asks for them
 * (transparent_hugepage/enabled is "always" or "madvise"). */
int mr__heap_thp_enabled(void);

#endif
