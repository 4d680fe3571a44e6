/// A dashboard part as bytes, so that the instances of a run split by partition can merge the
/// parts of tasks running elsewhere: in the snapshot envelope, which refuses damaged bytes and
/// parts of another pipeline or format.
extension DashboardPart {
    public func encoded(pipelineFingerprint: UInt64) -> [UInt8] {
        SnapshotEnvelope.seal(pipelineFingerprint: pipelineFingerprint) { w in
            w.write(asOf)
            w.write(countedGroups) { w, group in
                w.write(group.name)
                w.write(group.tags) { $0.write($1) }
            }
            w.write(communities.sorted { $0.key < $1.key }) { w, entry in
                w.write(entry.key)
                w.write(entry.value)
            }
        }
    }

    public init(encoded bytes: [UInt8], pipelineFingerprint: UInt64) throws {
        var r = try SnapshotEnvelope.open(bytes, pipelineFingerprint: pipelineFingerprint)
        asOf = try r.readInt64()
        countedGroups = try r.readArray { r in CountedGroup(name: try r.readString(), tags: try r.readArray { try $0.readString() }) }
        communities = Dictionary(uniqueKeysWithValues: try r.readArray { r in (try r.readString(), try r.readCommunityPart()) })
    }
}

extension SnapshotWriter {
    fileprivate mutating func write(_ part: CommunityPart) {
        write(part.users)
        write(column: part.tagCounts)
        write(part.history) { w, day in
            w.write(day.at)
            w.write(day.users)
            w.write(column: day.tagCounts)
            w.write(day.figures != nil)
            if let figures = day.figures { w.write(figures.fields) { w, field in w.write(field.0); w.write(field.1) } }
        }
        write(part.newCustomers)
        write(part.vipsAtRisk) { $0.write($1) }
        write(part.sleeping) { $0.write($1) }
        write(part.wakeCouponsSent)
        write(part.wakeCouponsHeldOut)
        write(part.openAlerts) { $0.write($1) }
    }

    private mutating func write(_ customer: CommunityPart.Customer) {
        write(customer.user)
        write(optional: customer.tag)
        write(optional: customer.lastPaid)
        write(optional: customer.usualGap)
        write(customer.wakeCoupon != nil)
        if let coupon = customer.wakeCoupon {
            write(coupon.campaign)
            write(coupon.at)
            write(coupon.holdout)
        }
    }

    private mutating func write(optional text: String?) {
        write(text != nil)
        if let text { write(text) }
    }
}

extension SnapshotReader {
    fileprivate mutating func readCommunityPart() throws -> CommunityPart {
        var part = CommunityPart(users: try readInt32(), tagCounts: try readColumn())
        part.history = try readArray { r in
            var day = CommunityDay(at: try r.readInt64(), users: try r.readInt32(), tagCounts: try r.readColumn())
            if try r.readBool() { day.figures = CommunityFigures(fields: try r.readArray { (try $0.readString(), try $0.readFigure()) }) }
            return day
        }
        part.newCustomers = try readInt32()
        part.vipsAtRisk = try readArray { try $0.readCustomer() }
        part.sleeping = try readArray { try $0.readCustomer() }
        part.wakeCouponsSent = try readInt32()
        part.wakeCouponsHeldOut = try readInt32()
        part.openAlerts = try readArray { try $0.readString() }
        return part
    }

    private mutating func readCustomer() throws -> CommunityPart.Customer {
        let user = try readString(), tag = try readOptionalString(), lastPaid = try readOptionalInt64(), usualGap = try readOptionalInt64()
        let coupon = try readBool() ? UserView.Coupon(campaign: try readString(), at: try readInt64(), holdout: try readBool()) : nil
        return CommunityPart.Customer(user: user, tag: tag, lastPaid: lastPaid, usualGap: usualGap, wakeCoupon: coupon)
    }

    private mutating func readOptionalString() throws -> String? {
        try readBool() ? try readString() : nil
    }
}
