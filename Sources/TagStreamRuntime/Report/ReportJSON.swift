import Foundation
import TagStreamCore

/// A JSON value of `report.json` and `compare.json`, written with sorted keys and fixed number
/// formats so that the same records always give the same bytes.
public indirect enum ReportJSON: Equatable, Sendable {
    case object([String: ReportJSON])
    case array([ReportJSON])
    case string(String)
    case integer(Int)
    /// Written in Swift's shortest round-trip form; NaN and infinities as `null`.
    case number(Double)
    /// An exact decimal amount.
    case money(Money)
    case bool(Bool)
    case null

    /// `.number`, or `null` for nil.
    public static func optional(_ value: Double?) -> ReportJSON { value.map(ReportJSON.number) ?? .null }

    /// Pretty-printed text with two-space indents and keys in byte order, ending in a newline.
    public func text() -> String {
        var out = ""
        write(into: &out, indent: "")
        return out + "\n"
    }

    private func write(into out: inout String, indent: String) {
        switch self {
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            let inner = indent + "  "
            out += "{\n"
            for (i, key) in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if i > 0 { out += ",\n" }
                out += inner
                Self.writeString(key, into: &out)
                out += ": "
                members[key]!.write(into: &out, indent: inner)
            }
            out += "\n" + indent + "}"
        case .array(let elements):
            guard !elements.isEmpty else { out += "[]"; return }
            // Arrays of plain values stay on one line: long series read better that way.
            if elements.allSatisfy(\.isScalar) {
                out += "["
                for (i, element) in elements.enumerated() {
                    if i > 0 { out += ", " }
                    element.write(into: &out, indent: indent)
                }
                out += "]"
                return
            }
            let inner = indent + "  "
            out += "[\n"
            for (i, element) in elements.enumerated() {
                if i > 0 { out += ",\n" }
                out += inner
                element.write(into: &out, indent: inner)
            }
            out += "\n" + indent + "]"
        case .string(let text):
            Self.writeString(text, into: &out)
        case .integer(let value):
            out += String(value)
        case .number(let value):
            out += value.isFinite ? (value == 0 ? "0" : "\(value)") : "null"
        case .money(let value):
            out += value.description
        case .bool(let value):
            out += value ? "true" : "false"
        case .null:
            out += "null"
        }
    }

    private var isScalar: Bool {
        switch self {
        case .object, .array: false
        default: true
        }
    }

    private static func writeString(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
