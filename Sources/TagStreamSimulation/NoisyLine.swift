/// Rewrites a compact JSON object line as a sloppier producer might send the same event:
/// members in another order, a field or two the engine does not know, and whitespace
/// between tokens.
enum NoisyLine {
    /// Members an app might add; none is a field of SPEC §1.
    private static let extraMembers: [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] = [
        (#""app_version""#, #""5.12.0""#), (#""device""#, #"{"os":"android","model":"Mi 11"}"#), (#""ab_bucket""#, "7"),
        (#""trace_id""#, "null"), (#""experiments""#, #"["new_cart","dark_mode"]"#),
        (#""geo""#, #"{"lat":31.2304,"lon":121.4737}"#), (#""network""#, #""wifi""#), (#""is_test""#, "false"),
    ].map { (ArraySlice($0.0.utf8), ArraySlice($0.1.utf8)) }
    private static let spaces: [[UInt8]] = ["", " ", "  ", "\t", " \t "].map { Array($0.utf8) }

    static func rewrite(_ line: [UInt8], random: inout RandomSource) -> [UInt8] {
        guard var members = topLevelMembers(of: line) else { return line }
        for _ in 0..<random.int(in: 1...2) {
            members.append(extraMembers[random.below(extraMembers.count)])
        }
        random.shuffle(&members)

        var out: [UInt8] = []
        out.reserveCapacity(line.count + 128)
        out += spaces[random.below(spaces.count)]
        out.append(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += spaces[random.below(spaces.count)]
            out += member.key
            out += spaces[random.below(spaces.count)]
            out.append(UInt8(ascii: ":"))
            out += spaces[random.below(spaces.count)]
            out += member.value
            out += spaces[random.below(spaces.count)]
        }
        out.append(UInt8(ascii: "}"))
        out += spaces[random.below(spaces.count)]
        return out
    }

    /// The raw key and value bytes of each member of a compact object, or nil if `line` is not one.
    static func topLevelMembers(of line: [UInt8]) -> [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>)]? {
        guard line.first == UInt8(ascii: "{"), line.last == UInt8(ascii: "}"), line.count > 2 else { return nil }
        var members: [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] = []
        var i = 1
        while i < line.count - 1 {
            let keyStart = i
            i = endOfString(line, from: i)
            let key = line[keyStart..<i]
            guard i < line.count, line[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            let valueStart = i
            var depth = 0
            while i < line.count - 1 || depth > 0 {
                let byte = line[i]
                if byte == UInt8(ascii: "\"") {
                    i = endOfString(line, from: i)
                    continue
                }
                if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
                if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") { depth -= 1 }
                if depth == 0, byte == UInt8(ascii: ",") { break }
                i += 1
            }
            members.append((key, line[valueStart..<i]))
            i += 1
        }
        return members
    }

    /// The index just after the string whose opening quote is at `start`.
    private static func endOfString(_ line: [UInt8], from start: Int) -> Int {
        var i = start + 1
        while i < line.count, line[i] != UInt8(ascii: "\"") {
            i += line[i] == UInt8(ascii: "\\") ? 2 : 1
        }
        return i + 1
    }
}
