import TagStreamCore

/// Writes event times as the JSON a producer might send: epoch milliseconds, or RFC 3339
/// in any of the spellings SPEC §5 allows, always naming the same millisecond.
struct TimestampText {
    let format: TimestampFormat

    /// Offsets in minutes RFC 3339 times are written in: UTC most often, Asia/Shanghai,
    /// New York, India, Central Europe and Nepal.
    private static let offsets = [0, 0, 0, 480, 480, -300, 330, 60, 345]

    /// Appends the JSON value of `ts` (a number, or a quoted RFC 3339 string) to `bytes`;
    /// returns whether it wrote RFC 3339.
    @discardableResult
    func append(_ ts: Int64, to bytes: inout [UInt8], random: inout RandomSource) -> Bool {
        switch format {
        case .ms:
            appendInteger(ts, to: &bytes)
            return false
        case .rfc3339:
            appendRFC3339(ts, to: &bytes, random: &random)
            return true
        case .mixed:
            if random.chance(0.5) {
                appendInteger(ts, to: &bytes)
                return false
            }
            appendRFC3339(ts, to: &bytes, random: &random)
            return true
        }
    }

    /// `line` with the value of its `"ts":` member (the simulator's integer) written in this format.
    func rewrite(_ line: [UInt8], ts: Int64, random: inout RandomSource) -> (line: [UInt8], isRFC3339: Bool) {
        guard let valueStart = Self.valueStart(ofTsIn: line) else { return (line, false) }
        var valueEnd = valueStart
        while valueEnd < line.count, line[valueEnd] == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[valueEnd]) {
            valueEnd += 1
        }
        var rewritten = Array(line[..<valueStart])
        rewritten.reserveCapacity(line.count + 32)
        let isRFC3339 = append(ts, to: &rewritten, random: &random)
        rewritten.append(contentsOf: line[valueEnd...])
        return (rewritten, isRFC3339)
    }

    /// The index just after `"ts":` in a compact line, if it has one.
    private static func valueStart(ofTsIn line: [UInt8]) -> Int? {
        let key: [UInt8] = Array(#""ts":"#.utf8)
        guard line.count > key.count else { return nil }
        for start in 0...(line.count - key.count) where line[start] == key[0] {
            if line[start..<(start + key.count)].elementsEqual(key) { return start + key.count }
        }
        return nil
    }

    private func appendInteger(_ value: Int64, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// `"2026-03-01T16:15:30.123+08:00"`: the local time at a chosen offset, the millisecond
    /// written exactly (extra fraction digits are below it, which readers truncate).
    private func appendRFC3339(_ ts: Int64, to bytes: inout [UInt8], random: inout RandomSource) {
        let offsetMinutes = Self.offsets[random.below(Self.offsets.count)]
        let local = ts + Int64(offsetMinutes) * 60_000
        let day = SimulationConfig.dayMilliseconds
        let days = local >= 0 ? local / day : (local - day + 1) / day
        let withinDay = local - days * day
        let (year, month, dayOfMonth) = EventTime.civil(fromDays: days)
        let millisecond = Int(withinDay % 1000)
        let seconds = Int(withinDay / 1000)

        bytes.append(UInt8(ascii: "\""))
        appendDigits(Int(year), width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(Int(month), width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(Int(dayOfMonth), width: 2, to: &bytes)
        bytes.append(random.chance(0.05) ? UInt8(ascii: "t") : UInt8(ascii: "T"))
        appendDigits(seconds / 3600, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(seconds / 60 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(seconds % 60, width: 2, to: &bytes)
        appendFraction(millisecond: millisecond, to: &bytes, random: &random)
        if offsetMinutes == 0 {
            bytes.append(random.chance(0.9) ? UInt8(ascii: "Z") : UInt8(ascii: "z"))
        } else {
            bytes.append(offsetMinutes > 0 ? UInt8(ascii: "+") : UInt8(ascii: "-"))
            appendDigits(abs(offsetMinutes) / 60, width: 2, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            appendDigits(abs(offsetMinutes) % 60, width: 2, to: &bytes)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// No fraction (when the millisecond allows), one digit (when it allows), or 3, 6 or 9 digits.
    private func appendFraction(millisecond: Int, to bytes: inout [UInt8], random: inout RandomSource) {
        let style = random.below(10)
        if millisecond == 0, style < 5 { return }
        bytes.append(UInt8(ascii: "."))
        if millisecond % 100 == 0, style < 7 {
            appendDigits(millisecond / 100, width: 1, to: &bytes)
            return
        }
        appendDigits(millisecond, width: 3, to: &bytes)
        switch style {
        case 7: appendDigits(random.below(1000), width: 3, to: &bytes)
        case 8: appendDigits(random.below(1_000_000), width: 6, to: &bytes)
        default: break
        }
    }

    private func appendDigits(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
