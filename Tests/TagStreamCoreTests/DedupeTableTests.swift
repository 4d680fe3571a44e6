import Testing
@testable import TagStreamCore

/// The table of accepted `event_id`s behind the duplicate rule (SPEC §5): exact within the horizon,
/// and no larger than the ids of one horizon need however long the stream runs.
@Suite struct DedupeTableTests {
    static let interval = 30 * EventTime.second
    static let idsPerDay = day / interval

    /// Ids at a steady rate for `days`, one every 30 s.
    private func stream(days: Int64, into sequencer: inout Sequencer, check: (Int64, Admission) -> Void = { _, _ in }) {
        for i in 0..<(days * Self.idsPerDay) {
            let ts = jan1 + i * Self.interval
            check(i, sequencer.admit(event("id-\(i)", ts), partition: 0))
            while sequencer.nextReady() != nil {}
        }
    }

    private func event(_ id: String, _ ts: Int64) -> Event {
        Event(ts: ts, eventID: id, type: .view, user: 0, community: -1, amount: .zero, hasCoupon: false, query: nil, items: [])
    }

    @Test func tableStaysTheSizeOfOneHorizonOnALongStream() {
        var sequencer = Sequencer(partitions: 1, lateness: 0, dedupeHorizon: 7 * day)
        stream(days: 60, into: &sequencer) { _, admission in #expect(admission == .accepted) }
        let idsPerHorizon = Int(7 * Self.idsPerDay)
        // Ids older than the horizon are dropped before the table grows (a table keeping them all
        // would need 60 days of ids / 0.7 slots): with at most 70 % of the slots in use before
        // that, and growth by half, it never needs three slots per live id over its first size.
        #expect(sequencer.acceptedIDs.size < 3 * idsPerHorizon + (1 << 17))
        #expect(sequencer.acceptedIDs.count <= sequencer.acceptedIDs.size * 7 / 10)
    }

    @Test func everyIdWithinTheHorizonIsStillFoundAfterTheTableGrewAndWasPruned() {
        var sequencer = Sequencer(partitions: 1, lateness: 7 * day + hour, dedupeHorizon: 7 * day)
        // From the smallest table: many growths, then prunings once ids leave the horizon.
        sequencer.acceptedIDs = AcceptedIDs(size: 16)
        let days: Int64 = 60, last = days * Self.idsPerDay - 1
        stream(days: days, into: &sequencer)
        let newest = jan1 + last * Self.interval
        var duplicates = 0, accepted = 0
        for i in stride(from: last, through: last - 8 * Self.idsPerDay, by: -97) {
            let ts = jan1 + i * Self.interval
            switch sequencer.admit(event("id-\(i)", newest), partition: 0) {
            case .duplicate: duplicates += 1; #expect(ts > newest - 7 * day)
            case .accepted: accepted += 1; #expect(ts <= newest - 7 * day)
            case .late: Issue.record("not late: the lateness covers the horizon")
            }
        }
        #expect(duplicates > 0 && accepted > 0)
    }

    /// Pruning tables of every fullness, whose runs wrap around the end: the live ids are all found
    /// with their times, the dropped ones are not, and the count agrees.
    @Test(arguments: [16, 17, 64, 1_000])
    func pruningKeepsExactlyTheLiveIds(size: Int) {
        var random = SplitMix(seed: UInt64(size))
        for round in 0..<200 {
            var table = AcceptedIDs(size: size)
            var model: [UInt64: Int64] = [:]
            while !table.isCrowded {
                // Fingerprints near the top of the range have their home at the table's end.
                let fingerprint = round % 2 == 0 ? random.next() : UInt64.max - random.next() % (UInt64.max / 8)
                let time = Int64(random.next() % 100)
                table.set(AcceptedIDs.Key(fingerprint: fingerprint), time: time)
                model[fingerprint] = time
            }
            let horizon = Int64(random.next() % 100)
            table.makeRoom(droppingAtOrBefore: horizon)
            let live = model.filter { $0.value > horizon }
            #expect(table.count == live.count)
            for (fingerprint, time) in model {
                let found = table.time(at: table.find(AcceptedIDs.Key(fingerprint: fingerprint)))
                #expect(found == (time > horizon ? time : nil), "size \(size), round \(round)")
            }
        }
    }

    /// The key as the snapshot format defines it, a byte at a time: words little-endian, the last
    /// zero-padded, the length mixed in first, MurmurHash3's finalizer last.
    private func referenceFingerprint(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (UInt64(bytes.count) &* 0x9e37_79b9_7f4a_7c15)
        for start in stride(from: 0, to: bytes.count, by: 8) {
            var word: UInt64 = 0
            for (j, b) in bytes[start..<min(start + 8, bytes.count)].enumerated() { word |= UInt64(b) << UInt64(8 * j) }
            h = (h ^ (word &* 0xff51_afd7_ed55_8ccd)) &* 0x9e37_79b9_7f4a_7c15
            h = (h << 31) | (h >> 33)
        }
        h = (h ^ (h >> 33)) &* 0xff51_afd7_ed55_8ccd
        h = (h ^ (h >> 33)) &* 0xc4ce_b9fe_1a85_ec53
        return h ^ (h >> 33)
    }

    @Test func keysLoadedAWordAtATimeEqualTheByteWiseDefinition() {
        for length in 0...40 {
            let bytes = (0..<length).map { UInt8(0x21 + $0 * 7 % 90) }  // printable ASCII
            let id = String(decoding: bytes, as: UTF8.self)
            #expect(AcceptedIDs.Key(id).fingerprint == referenceFingerprint(bytes), "length \(length)")
        }
    }
}
