/// Comparisons of secrets whose duration does not depend on where the inputs differ, so that
/// response times do not reveal how much of a guessed signature or token was right.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes. Visits every byte of the longer input whatever the
    /// lengths and wherever they differ.
    public static func equal<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        compare(a, b).equal
    }

    /// `equal`, and how many byte positions the loop visited (tests check that it is every one).
    static func compare<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> (equal: Bool, visited: Int) {
        let a = Array(a), b = Array(b)
        // Unequal lengths make the result false without a separate, early branch.
        var difference = UInt(bitPattern: a.count ^ b.count)
        var visited = 0
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= UInt(x ^ y)
            visited += 1
        }
        return (difference == 0, visited)
    }
}
