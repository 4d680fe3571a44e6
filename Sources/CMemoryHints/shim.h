// Hints to the processor and the kernel about memory, which Swift has no spelling for.
#include <stdint.h>
#include <sys/mman.h>

// Starts loading the cache line at `address`, which the caller will read soon, while the caller
// does other work. It never faults.
static inline void tagstream_prefetch(const void *address) { __builtin_prefetch(address, 1, 3); }

// Asks for 2 MB pages for the whole 2 MB-aligned part of [start, start + length), before it is
// first touched: a large table read at random then costs one TLB entry per 2 MB, not per 4 KB.
static inline void tagstream_advise_huge_pages(void *start, size_t length) {
    uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t first = ((uintptr_t)start + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)start + length) & ~(huge - 1);
#ifdef MADV_HUGEPAGE
    if (end > first) madvise((void *)first, end - first, MADV_HUGEPAGE);
#endif
}
