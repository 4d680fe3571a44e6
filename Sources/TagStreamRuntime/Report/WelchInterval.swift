/// The difference of two means with Welch's standard error and a normal approximation.
public enum WelchInterval {
    /// mean₁ − mean₂ ± z √(s₁²/n₁ + s₂²/n₂); nil when either arm has fewer than two users.
    public static func difference(_ first: PerUserValues, _ second: PerUserValues,
                                  z: Double = ProportionInterval.z95) -> (difference: Double, lower: Double, upper: Double)? {
        guard let m1 = first.mean, let m2 = second.mean, let v1 = first.variance, let v2 = second.variance else { return nil }
        let difference = m1 - m2
        let margin = z * (v1 / Double(first.users) + v2 / Double(second.users)).squareRoot()
        return (difference, difference - margin, difference + margin)
    }
}
