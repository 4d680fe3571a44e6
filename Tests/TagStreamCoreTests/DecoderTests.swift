import Testing
@testable import TagStreamCore

/// A well-formed `view` with the given members appended (without a leading comma).
private func view(_ more: String = "") -> String {
    #"{"event_id":"e1","type":"view","user_id":"u1","ts":1767225600000"# + (more.isEmpty ? "" : "," + more) + "}"
}

/// A well-formed `order_paid` head; `more` completes it.
private func paid(_ more: String) -> String {
    #"{"event_id":"e1","type":"order_paid","user_id":"u1","ts":1767225600000"# + (more.isEmpty ? "" : "," + more) + "}"
}

private func refunded(_ more: String) -> String {
    #"{"event_id":"e1","type":"order_refunded","user_id":"u1","ts":1767225600000"# + (more.isEmpty ? "" : "," + more) + "}"
}

/// 2026-03-01T08:15:30.123Z.
private let march1 = jan1 + 59 * day + 8 * hour + 15 * minute + 30_123

/// Decoding and input hygiene (SPEC §1 "Bad, duplicate, late and unknown input", §5 "Values",
/// §5 "Order of checks").
@Suite struct DecoderTests {
    // MARK: Dead letters

    @Test(arguments: [
        // Not JSON.
        (#"{"event_id":"#, "invalid_json"),
        (view(#""price":NaN"#), "invalid_json"),
        (#"{"event_id":"e1","type":"view","user_id":"u1","ts":NaN}"#, "invalid_json"),
        (paid(#""order_id":"o","amount":NaN"#), "invalid_json"),
        (view(#""price":Infinity"#), "invalid_json"),
        (view() + " x", "invalid_json"),
        (view() + "}", "invalid_json"),
        (view() + #"{"a":1}"#, "invalid_json"),
        (#"{"event_id":"e1","type":"view","user_id":"u1","ts":1767225600000,}"#, "invalid_json"),
        (#"{'event_id':'e1'}"#, "invalid_json"),
        (#"{"event_id":"e1","type":"view","user_id":"u1","ts":01767225600000}"#, "invalid_json"),
        (view(#""sku":"a\qb""#), "invalid_json"),
        (view(#""sku":"\u12""#), "invalid_json"),
        (view("\"sku\":\"a\u{01}b\""), "invalid_json"),
        (view(#""sku":tru"#), "invalid_json"),
        (view(#""price":1."#), "invalid_json"),
        (view(#""price":-"#), "invalid_json"),
        (view(#""price":+1"#), "invalid_json"),
        ("", "invalid_json"),
        // Not an object.
        ("[1,2]", "not_an_object"),
        (#""text""#, "not_an_object"),
        ("42", "not_an_object"),
        ("null", "not_an_object"),
        ("true", "not_an_object"),
        // Required strings.
        (#"{"type":"view","user_id":"u1","ts":1}"#, "missing_event_id"),
        (#"{"event_id":null,"type":"view","user_id":"u1","ts":1}"#, "missing_event_id"),
        (#"{"event_id":"","type":"view","user_id":"u1","ts":1}"#, "empty_event_id"),
        (#"{"event_id":7,"type":"view","user_id":"u1","ts":1}"#, "wrong_type_event_id"),
        (#"{"event_id":"e1","user_id":"u1","ts":1}"#, "missing_type"),
        (#"{"event_id":"e1","type":"","user_id":"u1","ts":1}"#, "empty_type"),
        (#"{"event_id":"e1","type":["view"],"user_id":"u1","ts":1}"#, "wrong_type_type"),
        (#"{"event_id":"e1","type":"view","ts":1}"#, "missing_user_id"),
        (#"{"event_id":"e1","type":"view","user_id":"","ts":1}"#, "empty_user_id"),
        (#"{"event_id":"e1","type":"view","user_id":123,"ts":1}"#, "wrong_type_user_id"),
        // ts.
        (#"{"event_id":"e1","type":"view","user_id":"u1"}"#, "missing_ts"),
        (#"{"event_id":"e1","type":"view","user_id":"u1","ts":null}"#, "missing_ts"),
        // Optional fields of the wrong type.
        (view(#""community_id":5"#), "wrong_type_community_id"),
        (view(#""leader_id":false"#), "wrong_type_leader_id"),
        (view(#""session_id":{}"#), "wrong_type_session_id"),
        (view(#""sku":1"#), "wrong_type_sku"),
        (view(#""category":["x"]"#), "wrong_type_category"),
        (view(#""price":"3""#), "wrong_type_price"),
        (view(#""query":true"#), "wrong_type_query"),
        (view(#""referrer_id":1"#), "wrong_type_referrer_id"),
        (view(#""discount":"x""#), "wrong_type_discount"),
        (view(#""coupon_id":5"#), "wrong_type_coupon_id"),
        (view(#""order_id":5"#), "wrong_type_order_id"),
        // Orders.
        (paid(#""order_id":"o""#), "missing_amount"),
        (paid(#""order_id":"o","amount":null"#), "missing_amount"),
        (refunded(#""order_id":"o""#), "missing_amount"),
        (paid(#""order_id":"o","amount":"10""#), "wrong_type_amount"),
        (paid(#""order_id":"o","amount":true"#), "wrong_type_amount"),
        (paid(#""order_id":"o","amount":[10]"#), "wrong_type_amount"),
        (paid(#""order_id":"o","amount":-5"#), "negative_amount"),
        (paid(#""order_id":"o","amount":-0.01"#), "negative_amount"),
        (refunded(#""order_id":"o","amount":-1e-2"#), "negative_amount"),
        (paid(#""order_id":"o","amount":1e30"#), "amount_out_of_range"),
        (paid(#""amount":10"#), "missing_order_id"),
        (paid(#""order_id":null,"amount":10"#), "missing_order_id"),
        (paid(#""order_id":"","amount":10"#), "empty_order_id"),
        (refunded(#""order_id":"","amount":10"#), "empty_order_id"),
        (paid(#""order_id":7,"amount":10"#), "wrong_type_order_id"),
        // Items.
        (paid(#""order_id":"o","amount":1,"items":{}"#), "wrong_type_items"),
        (paid(#""order_id":"o","amount":1,"items":"x""#), "wrong_type_items"),
        (paid(#""order_id":"o","amount":1,"items":[1]"#), "wrong_type_items"),
        (paid(#""order_id":"o","amount":1,"items":[{"sku":"a","qty":"2"}]"#), "wrong_type_items"),
        (paid(#""order_id":"o","amount":1,"items":[{"sku":5,"qty":2}]"#), "wrong_type_items"),
        (paid(#""order_id":"o","amount":1,"items":[{"category":true}]"#), "wrong_type_items"),
        (paid(#""order_id":"o","amount":1,"items":[{"price":"1"}]"#), "wrong_type_items"),
        (paid(#""order_id":"o","amount":1,"items":[{"sku":"a","qty":1},{"sku":"b","qty":"x"}]"#), "wrong_type_items"),
        (view(#""items":5"#), "wrong_type_items"),
    ] as [(String, String)])
    func badRecordIsDeadLetteredWithAMachineReadableReason(line: String, code: String) {
        #expect(deadLetterCode(decode(line)) == code)
    }

    @Test(arguments: [
        "1.5", "1e12", "1767225600000.0", "1.7672256E12", "1767225600000e0", "-1.0", "true", "[]", "{}",
        #""yesterday""#, #""1767225600000""#, #""""#, "99999999999999999999", "-99999999999999999999",
    ])
    func timestampThatIsNeitherAnIntegerNorRFC3339IsDeadLettered(ts: String) {
        let line = #"{"event_id":"e1","type":"view","user_id":"u1","ts":\#(ts)}"#
        #expect(deadLetterCode(decode(line)) == "invalid_ts")
    }

    /// Integer times of every length up to 20 digits, with any digit in any place, and negative
    /// ones: exact within the supported range (up to 15 digits), `invalid_ts` outside it, whether
    /// they fit 64 bits (up to 18 digits, read without overflow checks; 19) or not (20).
    @Test func integerTimestampsOfEveryLengthAreExact() {
        var random = SplitMix(seed: 3)
        for digits in 1...20 {
            for _ in 0..<200 {
                var text = String(1 + random.next() % 9)
                for _ in 1..<digits { text += String(random.next() % 10) }
                for sign in ["", "-"] {
                    let result = decode(#"{"event_id":"e1","type":"view","user_id":"u1","ts":\#(sign)\#(text)}"#)
                    if let expected = Int64(sign + text), EventTime.supportedRange.contains(expected) {
                        #expect(decodedEvent(result)?.ts == expected, "\(sign)\(text)")
                    } else {
                        #expect(deadLetterCode(result) == "invalid_ts", "\(sign)\(text)")
                    }
                }
            }
        }
        // A number right after the record's first bytes, and one that ends the record.
        #expect(decodedEvent(decode(#"{"ts":1767225600669,"event_id":"e1","type":"view","user_id":"u1"}"#))?.ts == 1_767_225_600_669)
        #expect(decodedEvent(decode(#"{"event_id":"e1","type":"view","user_id":"u1","ts":12345678}"#))?.ts == 12_345_678)
    }

    @Test(arguments: [
        [0xFF], [0xC0, 0x80], [0xC1, 0xBF], [0xED, 0xA0, 0x80], [0xE6, 0x9C], [0xF4, 0x90, 0x80, 0x80], [0x80],
        [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE0, 0x80, 0x80],
    ] as [[UInt8]])
    func invalidUTF8IsDeadLetteredAsInvalidJSON(bad: [UInt8]) {
        let bytes = Array(#"{"event_id":"e1","type":"view","user_id":"u"#.utf8) + bad + Array(#"","ts":1}"#.utf8)
        #expect(deadLetterCode(decode(bytes: bytes)) == "invalid_json")
    }

    @Test func invalidUTF8OutsideStringsIsDeadLettered() {
        let bytes = Array(view().utf8) + [0xFF]
        #expect(deadLetterCode(decode(bytes: bytes)) == "invalid_json")
    }

    @Test func validMultiByteUTF8IsAccepted() {
        let event = decodedEvent(decode(#"{"event_id":"é🥬","type":"search","user_id":"用户","ts":1,"query":"有机 🥬"}"#))
        #expect(event?.eventID == "é🥬")
        #expect(event?.query == "有机 🥬")
    }

    // MARK: Values

    @Test func nullOptionalFieldsAreTheSameAsAbsent() {
        let line = paid(#""order_id":"o","amount":1,"community_id":null,"leader_id":null,"session_id":null,"#
            + #""sku":null,"category":null,"price":null,"query":null,"referrer_id":null,"discount":null,"#
            + #""coupon_id":null,"items":null"#)
        let event = decodedEvent(decode(line))
        #expect(event != nil)
        #expect(event?.community == -1)
        #expect(event?.hasCoupon == false)
        #expect(event?.items == [])
    }

    @Test func nullItemFieldsAreAbsentAndAMissingQtyIsZero() {
        let event = decodedEvent(decode(paid(#""order_id":"o","amount":1,"items":[{"sku":null,"category":null,"qty":null,"price":null},{"sku":"a"}]"#)))
        #expect(event?.items.count == 2)
        #expect(event?.items.first?.sku == -1)
        #expect(event?.items.first?.category == -1)
        #expect(event?.items.allSatisfy { $0.quantity == .zero } == true)
    }

    @Test(arguments: [
        ("10", 10_000_000), ("19.99", 19_990_000), ("2.50", 2_500_000), ("0.1", 100_000), ("1e2", 100_000_000),
        ("1.5E1", 15_000_000), ("0", 0), ("0.000001", 1), ("-0", 0),
    ] as [(String, Int64)])
    func amountIsDecodedAsAnExactDecimal(amount: String, units: Int64) {
        let event = decodedEvent(decode(paid(#""order_id":"o","amount":\#(amount)"#)))
        #expect(event?.amount == Money(units: units))
    }

    @Test
    func amountBelowZeroByLessThanAMillionthIsStillNegative() {
        // SPEC §1: amount must be a number ≥ 0; −0.0000001 is below zero even if it rounds to 0.
        #expect(deadLetterCode(decode(paid(#""order_id":"o","amount":-0.0000001"#))) == "negative_amount")
    }

    @Test func couponIdIsACouponOnlyWhenNonEmpty() {
        #expect(decodedEvent(decode(paid(#""order_id":"o","amount":1,"coupon_id":"""#)))?.hasCoupon == false)
        #expect(decodedEvent(decode(paid(#""order_id":"o","amount":1,"coupon_id":"C""#)))?.hasCoupon == true)
        #expect(decodedEvent(decode(paid(#""order_id":"o","amount":1"#)))?.hasCoupon == false)
    }

    @Test(arguments: ["  " + view(), view() + "\r", "\t" + view() + " \r\n", #"{ "event_id" : "e1" , "type":"view","user_id":"u1","ts" : 1767225600000 }"#])
    func whitespaceAroundTokensIsAllowed(line: String) {
        #expect(decodedEvent(decode(line))?.ts == jan1)
    }

    @Test func unknownFieldsOfAnyShapeAreIgnored() {
        let event = decodedEvent(decode(view(#""extra":{"nested":[1,2.5,{"a":null}],"b":"\u0041"},"more":[true,false]"#)))
        #expect(event?.eventID == "e1")
    }

    @Test func duplicateKeysLastOneWins() {
        let event = decodedEvent(decode(
            #"{"event_id":"a","event_id":"b","type":"app_open","type":"view","user_id":"u1","ts":"garbage","ts":42}"#))
        #expect(event?.eventID == "b")
        #expect(event?.type == .view)
        #expect(event?.ts == 42)
        #expect(decodedEvent(decode(paid(#""order_id":"o","amount":"x","amount":5"#)))?.amount == Money(units: 5_000_000))
        #expect(deadLetterCode(decode(paid(#""order_id":"o","amount":5,"amount":"x""#))) == "wrong_type_amount")
        #expect(deadLetterCode(decode(paid(#""order_id":"o","amount":1,"items":[{"qty":"x"}],"items":[]"#))) == nil)
        #expect(deadLetterCode(decode(paid(#""order_id":"o","amount":1,"items":[],"items":[{"qty":"x"}]"#))) == "wrong_type_items")
    }

    @Test func escapedKeysAndValuesAreComparedAfterUnescaping() {
        var decoder = EventDecoder()
        var symbols = SymbolTable()
        let line = #"{"event\u005fid":"e\u0031","\u0074ype":"order\u005fpaid","user\u005fid":"\u0075\u0031","ts":5,"#
            + #""order_id":"o","amount":1,"community\u005fid":"c1","items":[{"\u0073ku":"s","qty":2}]}"#
        let result = Array(line.utf8).withUnsafeBufferPointer { decoder.decode($0, symbols: &symbols) }
        let event = decodedEvent(result)
        #expect(event?.eventID == "e1")
        #expect(event?.type == .orderPaid)
        #expect(event.map { symbols.users[$0.user] } == "u1")
        #expect(event.map { symbols.communities[$0.community] } == "c1")
        #expect(event?.items.first.map { symbols.skus[$0.sku] } == "s")
        #expect(event?.items.first?.quantity == Money(units: 2_000_000))
    }

    @Test func queryEscapesAreResolvedIncludingSurrogatePairs() {
        let event = decodedEvent(decode(#"{"event_id":"e","type":"search","user_id":"u","ts":1,"query":"\u6709\u673a \ud83e\udd6c \"x\"\n"}"#))
        #expect(event?.query == "有机 🥬 \"x\"\n")
    }

    // MARK: RFC 3339

    @Test(arguments: [
        ("2026-03-01T08:15:30.123Z", march1),
        ("2026-03-01t08:15:30.123z", march1),
        ("2026-03-01T16:15:30.123+08:00", march1),
        ("2026-03-01T03:15:30.123-05:00", march1),
        ("2026-03-01T08:15:30.123+00:00", march1),
        ("2026-03-01T08:15:30.123-00:00", march1),
        ("2026-03-01T08:15:30Z", march1 - 123),
        ("2026-03-01T08:15:30.1Z", march1 - 23),
        ("2026-03-01T08:15:30.12Z", march1 - 3),
        ("2026-03-01T08:15:30.123456Z", march1),
        ("2026-03-01T08:15:30.123999999Z", march1),
        ("2026-03-01T08:15:30.999999Z", march1 - 123 + 999),
        ("2026-01-01T00:30:00+01:00", jan1 - 30 * minute),
        ("2026-01-01T00:00:00Z", jan1),
        ("2028-02-29T00:00:00Z", jan1 + 789 * day),
        ("2024-02-29T12:00:00Z", jan1 - 672 * day + 12 * hour),
        ("2000-02-29T00:00:00Z", 951_782_400_000),
        ("1969-12-31T23:59:59.999Z", -1),
        ("2026-12-31T23:59:59.999Z", jan1 + 365 * day - 1),
    ] as [(String, Int64)])
    func rfc3339TimestampsAreAccepted(text: String, expected: Int64) {
        let event = decodedEvent(decode(#"{"event_id":"e1","type":"view","user_id":"u1","ts":"\#(text)"}"#))
        #expect(event?.ts == expected)
    }

    @Test(arguments: [
        "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-32T00:00:00Z", "2026-01-00T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z", "2026-01-01T23:59:61Z", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z",
        "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+0800", "2026-01-01T00:00:00+08", "2026-01-01T00:00:00+24:00",
        "2026-1-01T00:00:00Z", "26-01-01T00:00:00Z", "2026-01-01T00:00Z", "2026-01-01T00:00:00ZZ",
        "2026-01-01T00:00:00Z ", " 2026-01-01T00:00:00Z", "2026-01-01", "2026-01-01X00:00:00Z",
    ])
    func malformedRFC3339IsDeadLettered(text: String) {
        let line = #"{"event_id":"e1","type":"view","user_id":"u1","ts":"\#(text)"}"#
        #expect(deadLetterCode(decode(line)) == "invalid_ts")
    }

    @Test func escapedRFC3339StringIsParsedAfterUnescaping() {
        let event = decodedEvent(decode(#"{"event_id":"e1","type":"view","user_id":"u1","ts":"2026\u002d01-01T00:00:00\u005a"}"#))
        #expect(event?.ts == jan1)
    }

    @Test(arguments: [("0", 0 as Int64), ("-1", -1), ("1767225600000", jan1), ("-0", 0)] as [(String, Int64)])
    func integerTimestampsAreEpochMilliseconds(ts: String, expected: Int64) {
        #expect(decodedEvent(decode(#"{"event_id":"e1","type":"view","user_id":"u1","ts":\#(ts)}"#))?.ts == expected)
    }

    /// Integers this far from the epoch overflow the engine's instant arithmetic
    /// (`midnight(atOrAfter:)`, `last_paid + 180d`, `maxAccepted − lateness`). Whatever the
    /// engine decides (a dead letter is the natural choice), the record must end in one
    /// counted outcome and the run must finish: a user can send such a line.
    @Test(arguments: ["9223372036854775807", "9223372036854000000", "-9223372036854775807", "-9223372036000000000"])
    func extremeIntegerTimestampEndsInACountedOutcomeWithoutCrashing(ts: String) throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        let outcome = try process(&processor,
            #"{"event_id":"a","type":"order_paid","user_id":"u","ts":\#(ts),"order_id":"o","amount":1}"#)
        try processor.finish()
        #expect(outcome != .blank)
        #expect(processor.counts.total == 1)
    }

    // MARK: Unknown types and the order of checks

    @Test func unknownTypeIsIgnored() {
        let result = decode(#"{"event_id":"e1","type":"wishlist","user_id":"u1","ts":1}"#)
        guard case let .ignored(type) = result else {
            Issue.record("expected ignored, got \(result)")
            return
        }
        #expect(type == "wishlist")
        // Amount and order_id only matter on orders.
        #expect(deadLetterCode(decode(#"{"event_id":"e1","type":"refund_requested","user_id":"u1","ts":1}"#)) == nil)
    }

    @Test(arguments: [
        (#"{"event_id":"e1","type":"wishlist","user_id":"u1"}"#, "missing_ts"),
        (#"{"event_id":"e1","type":"wishlist","user_id":"u1","ts":1.5}"#, "invalid_ts"),
        (#"{"event_id":"e1","type":"wishlist","ts":1}"#, "missing_user_id"),
        (#"{"event_id":"e1","type":"wishlist","user_id":"u1","ts":1,"price":"x"}"#, "wrong_type_price"),
        (#"{"event_id":"e1","type":"wishlist","user_id":"u1","ts":1,"items":[{"qty":"x"}]}"#, "wrong_type_items"),
    ] as [(String, String)])
    func unknownTypeThatIsAlsoBadIsDeadLettered(line: String, code: String) {
        #expect(deadLetterCode(decode(line)) == code)
    }

    @Test func orderOfChecksIsDeadLetterIgnoredDuplicateLateAccepted() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        let t = jan1 + hour
        #expect(try process(&processor, #"{"event_id":"a","type":"view","user_id":"u1","ts":\#(t)}"#) == .accepted)
        #expect(try process(&processor, #"{"event_id":"b","type":"view","user_id":"u1","ts":\#(t + hour)}"#) == .accepted)
        // Dead letter beats everything: a reused id, a late ts, an unknown type.
        if case .deadLetter = try process(&processor, #"{"event_id":"a","type":"wishlist","user_id":"u1","ts":1.5}"#) {} else {
            Issue.record("expected a dead letter")
        }
        // Ignored beats duplicate and late.
        #expect(try process(&processor, #"{"event_id":"a","type":"wishlist","user_id":"u1","ts":\#(t)}"#) == .ignored(type: "wishlist"))
        // Duplicate beats late.
        #expect(try process(&processor, #"{"event_id":"a","type":"view","user_id":"u1","ts":\#(t)}"#) == .duplicate)
        // Late, for a fresh id.
        #expect(try process(&processor, #"{"event_id":"c","type":"view","user_id":"u1","ts":\#(t)}"#) == .late)
        #expect(processor.counts.accepted == 2)
        #expect(processor.counts.deadLetter == 1)
        #expect(processor.counts.ignored == 1)
        #expect(processor.counts.duplicate == 1)
        #expect(processor.counts.late == 1)
        #expect(processor.counts.total == 6)
        #expect(processor.counts.deadLetterReasons == ["invalid_ts": 1])
        #expect(processor.counts.ignoredTypes == ["wishlist": 1])
    }

    @Test(arguments: ["", " ", "\t", "\r", "  \t \r"])
    func blankLinesAreSkippedAndNotCounted(line: String) throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        #expect(try process(&processor, line) == .blank)
        #expect(processor.counts.total == 0)
        #expect(processor.counts.deadLetter == 0)
    }

    @Test func escapedEventIdIsTheSameIdForDuplicates() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        #expect(try process(&processor, #"{"event_id":"e1","type":"view","user_id":"u1","ts":\#(jan1)}"#) == .accepted)
        #expect(try process(&processor, #"{"event_id":"e\u0031","type":"view","user_id":"u1","ts":\#(jan1)}"#) == .duplicate)
    }

    /// A repeated key's last value is the id, escaped or not, for the duplicate rule too.
    @Test func lastOfRepeatedEventIdKeysIsTheIdForDuplicates() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        #expect(try process(&processor, #"{"event_id":"e1","type":"view","user_id":"u1","ts":\#(jan1)}"#) == .accepted)
        #expect(try process(&processor, #"{"event_id":"x","type":"view","user_id":"u1","ts":\#(jan1),"event_id":"e\u0031"}"#) == .duplicate)
        #expect(try process(&processor, #"{"event_id":"e1","type":"view","user_id":"u1","ts":\#(jan1),"event_id":"y"}"#) == .accepted)
        #expect(try process(&processor, #"{"event_id":"e\u0031","type":"view","user_id":"u1","ts":\#(jan1),"event_id":"x"}"#) == .accepted)
    }

    /// Keys are matched against the order of the record before; any other order, spacing or escape falls back to reading them.
    @Test func keysAreFoundWhateverTheirOrderFromRecordToRecord() {
        var decoder = EventDecoder()
        var symbols = SymbolTable()
        let spellings = [
            #"{"event_id":"e","type":"order_paid","ts":5,"user_id":"u1","community_id":"c1","order_id":"o","amount":2.5}"#,
            #"{"amount":2.5,"order_id":"o","community_id":"c1","user_id":"u1","ts":5,"type":"order_paid","event_id":"e"}"#,
            #"{"event_id":"e","extra":{"ts":1},"type":"order_paid","ts":5,"user_id":"u1","community_id":"c1","order_id":"o","amount":2.5}"#,
            #"{"event_id" : "e","type":"order_paid","t\u0073":5,"user_id":"u1","community_id":"c1","order_id":"o","amount":2.5}"#,
            #"{"event_id":"e","type":"order_paid","ts":5,"user_id":"u1","community_id":"c1","order_id":"o","amount":2.5}"#,
        ]
        for line in spellings + spellings.reversed() {
            let event = decodedEvent(Array(line.utf8).withUnsafeBufferPointer { decoder.decode($0, symbols: &symbols) })
            #expect(event?.eventID == "e", "\(line)")
            #expect(event?.ts == 5 && event?.type == .orderPaid && event?.amount == Money(units: 2_500_000))
            #expect(event.map { symbols.users[$0.user] } == "u1")
            #expect(event.map { symbols.communities[$0.community] } == "c1")
        }
    }

    /// A lone surrogate escape spells no character: two such ids would otherwise be one.
    @Test(arguments: [#""x\ud800""#, #""x\udc00""#, #""x\ud800\u0041""#, #""x\ud800\ud800""#])
    func loneSurrogateEscapeIsADeadLetter(id: String) throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        let line = #"{"event_id":\#(id),"type":"view","user_id":"u1","ts":\#(jan1)}"#
        guard case .deadLetter(let reason) = try process(&processor, line) else {
            Issue.record("accepted an id with a lone surrogate")
            return
        }
        #expect(reason.code == "invalid_json")
        #expect(reason.message.contains("surrogate"))
    }

    @Test func surrogatePairEscapeIsTheCharacterItSpells() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        #expect(try process(&processor, #"{"event_id":"x\ud83d\ude00","type":"view","user_id":"u1","ts":\#(jan1)}"#) == .accepted)
        #expect(try process(&processor, #"{"event_id":"x😀","type":"view","user_id":"u1","ts":\#(jan1)}"#) == .duplicate)
    }

    @Test func everyNonBlankRecordEndsInExactlyOneCountedOutcome() throws {
        var processor = try Processor(pipeline: .reference, partitions: 1)
        let lines = [
            view(), "", "{bad", view(), #"{"event_id":"x","type":"wishlist","user_id":"u1","ts":1767225600000}"#,
            #"{"event_id":"old","type":"view","user_id":"u1","ts":1}"#, "   ", paid(#""order_id":"o","amount":-1"#),
        ]
        let outcomes = try lines.map { try process(&processor, $0) }
        #expect(outcomes.filter { $0 == .blank }.count == 2)
        #expect(processor.counts.total == lines.count - 2)
        #expect(processor.counts.accepted == 1)
        #expect(processor.counts.duplicate == 1)
        #expect(processor.counts.ignored == 1)
        #expect(processor.counts.late == 1)
        #expect(processor.counts.deadLetter == 2)
    }
}
