#if os(Linux)
import CMalloc
#endif

/// Keeps every allocation over 64 KB in a mapping of its own, returned to the system when freed.
/// By default glibc raises that threshold each time such a block is freed (up to 32 MB) and then
/// serves large blocks from its heap, which rarely shrinks: the per-user columns, which grow by
/// copying, would leave their old copies behind as holes. 64 KB rather than more: a replay split
/// among N workers has columns N times smaller, which must not fall back into the heap.
func keepLargeAllocationsMapped() {
    #if os(Linux)
    _ = mallopt(M_MMAP_THRESHOLD, 64 * 1024)
    #endif
}
