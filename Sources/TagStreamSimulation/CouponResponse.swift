import TagStreamCore

/// How simulated users answer the reference pipeline's coupons, so that its campaigns show an
/// uplift over their holdout: a user sent a coupon is more likely to order in the week after it
/// than one held out (by SPEC §4's hash, 10 %). The simulation does not see the engine's coupons;
/// it anticipates the two it can: `second_order` at a first paid order, and `wake_up` when a user
/// has not paid for 90 days (the pipeline's `sleeping`).
enum CouponResponse {
    static let holdoutPercent: UInt64 = 10
    /// Days without a paid order after which the pipeline calls a user sleeping.
    static let sleepingAfterDays: Int32 = 90
    /// The chance that a wake-up coupon brings a quiet user back within a few days.
    static let wakeUpChance = 0.35
    /// The chance that a second-order coupon brings the next order within the week.
    static let secondOrderChance = 0.3

    /// Whether the pipeline holds `user` out of `campaign`: they are not sent its coupon.
    static func isHeldOut(_ campaign: String, user: String) -> Bool {
        FNV1a64.hash("\(campaign):\(user)") % 100 < holdoutPercent
    }
}
