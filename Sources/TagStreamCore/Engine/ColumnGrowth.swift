extension Array {
    /// Appends `value` until the array holds `n` elements, growing its room by half at a time:
    /// the standard doubling would leave up to half of a large per-key column unused.
    mutating func extend(to n: Int, with value: Element) {
        guard n > count else { return }
        if capacity < n { reserveCapacity(Swift.max(n, capacity + capacity / 2)) }
        append(contentsOf: repeatElement(value, count: n - count))
    }
}
