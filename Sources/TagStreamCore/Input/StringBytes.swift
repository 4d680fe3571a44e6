extension String {
    /// Calls `body` with the string's UTF-8 bytes. Unlike `withUTF8`, which needs a `var` copy of
    /// the string (a retain and a release), it reads them in place.
    func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = self
        return try copy.withUTF8(body)
    }
}
