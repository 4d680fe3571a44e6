import Foundation

/// Confidence intervals for proportions and for the difference of two independent proportions.
public enum ProportionInterval {
    /// The standard normal quantile for a two-sided 95 % interval.
    public static let z95 = 1.959964

    /// Wilson's score interval for `successes` out of `trials`; nil without trials.
    public static func wilson(successes: Int, trials: Int, z: Double = z95) -> (lower: Double, upper: Double)? {
        guard trials > 0, successes >= 0, successes <= trials else { return nil }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let halfWidth = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / (1 + z2 / n)
        // Exact at the ends: 0/n has lower bound 0 and n/n upper bound 1, without rounding noise.
        return (successes == 0 ? 0 : centre - halfWidth, successes == trials ? 1 : centre + halfWidth)
    }

    /// p₁ − p₂ with Newcombe's hybrid score interval (method 10 of Newcombe 1998): Wilson intervals
    /// (l₁, u₁) and (l₂, u₂) per arm, then D − √((p₁−l₁)² + (u₂−p₂)²) … D + √((u₁−p₁)² + (p₂−l₂)²).
    /// Nil when either arm is empty.
    public static func newcombeDifference(successes1: Int, trials1: Int, successes2: Int, trials2: Int,
                                          z: Double = z95) -> (difference: Double, lower: Double, upper: Double)? {
        guard let (l1, u1) = wilson(successes: successes1, trials: trials1, z: z),
              let (l2, u2) = wilson(successes: successes2, trials: trials2, z: z) else { return nil }
        let p1 = Double(successes1) / Double(trials1)
        let p2 = Double(successes2) / Double(trials2)
        let difference = p1 - p2
        let below = ((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2)).squareRoot()
        let above = ((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2)).squareRoot()
        return (difference, difference - below, difference + above)
    }
}
