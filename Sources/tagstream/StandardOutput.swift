// Only the C library here: with Foundation imported, `stdout` is a shared mutable global to Swift 6.
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// Makes `print` hand each line to a file or pipe as soon as it ends, as it does on a terminal,
/// instead of when the buffer fills or the process exits: a script reads `bootstrap:` and the
/// status lines while a command still runs.
func lineBufferStandardOutput() {
    setvbuf(stdout, nil, _IOLBF, 0)
}
