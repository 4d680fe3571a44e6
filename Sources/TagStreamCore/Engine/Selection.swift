extension Array {
    /// Puts at index `k` the element a sort by `less` (a strict total order) would put there, with
    /// no greater element before it and no smaller one after it: a quickselect, linear on average,
    /// where a percentile needs one element instead of the whole sorted array. A range that keeps
    /// partitioning badly is sorted instead, so the worst case stays O(n log n): after `rounds`
    /// partitions (by default twice the bits of `count`).
    mutating func select(_ k: Int, by less: (Element, Element) -> Bool, rounds: Int? = nil) {
        precondition(indices.contains(k), "select: index \(k) out of range")
        var low = 0, high = count - 1
        var rounds = rounds ?? 2 * (Int.bitWidth - count.leadingZeroBitCount)
        while low < high {
            guard rounds > 0 else {
                self[low...high].sort(by: less)
                return
            }
            rounds -= 1
            // The median of the first, middle and last elements is the pivot, left in the middle.
            let middle = low + (high - low) / 2
            if less(self[middle], self[low]) { swapAt(middle, low) }
            if less(self[high], self[low]) { swapAt(high, low) }
            if less(self[high], self[middle]) { swapAt(high, middle) }
            let pivot = self[middle]
            var i = low, j = high
            while i <= j {
                while less(self[i], pivot) { i += 1 }
                while less(pivot, self[j]) { j -= 1 }
                if i <= j {
                    swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            // Now low...j holds no element above the pivot, i...high none below it, and any
            // elements between them equal it.
            if k <= j { high = j } else if k >= i { low = i } else { return }
        }
    }
}
