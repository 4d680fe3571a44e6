import Foundation

/// How the report writes numbers and text for people: `3,210`, `+4.1 pts`, `12.5 %`.
enum ReportFormat {
    /// A number with thousands separators and a fixed count of decimals.
    static func number(_ value: Double, decimals: Int = 0) -> String {
        let text = String(format: "%.\(decimals)f", abs(value))
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        var whole = ""
        for (i, digit) in parts[0].reversed().enumerated() {
            if i > 0, i % 3 == 0 { whole.append(",") }
            whole.append(digit)
        }
        let sign = value < 0 && text.contains(where: { $0 != "0" && $0 != "." }) ? "-" : ""
        return sign + String(whole.reversed()) + (parts.count > 1 ? "." + parts[1] : "")
    }

    static func integer(_ value: Int) -> String { number(Double(value)) }

    /// A difference of proportions in percentage points, signed: `+4.1`.
    static func points(_ value: Double) -> String {
        let text = number(value * 100, decimals: 1)
        return text.hasPrefix("-") || text == "0.0" ? text : "+" + text
    }

    /// A proportion as a percentage: `12.5 %`.
    static func percent(_ value: Double?, decimals: Int = 1) -> String {
        value.map { number($0 * 100, decimals: decimals) + " %" } ?? "–"
    }

    /// A signed amount: `+1,234.50`.
    static func signedAmount(_ value: Double) -> String {
        let text = number(value, decimals: 2)
        return text.hasPrefix("-") ? text : "+" + text
    }

    static func escapeHTML(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
