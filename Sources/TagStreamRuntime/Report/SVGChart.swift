import Foundation

/// One named line, stack layer or bar series of a chart; nil values are gaps.
struct ChartSeries {
    let name: String
    let values: [Double?]
}

/// Inline SVG charts for the report page: titled, with labelled axes, ticks and a legend, and a
/// tooltip (`<title>`) on every point or bar. No script, no external resource.
struct SVGChart {
    enum Kind {
        case lines
        /// Layers stacked on each other, as areas.
        case stackedArea
        /// Bars side by side per x position.
        case groupedBars
        case stackedBars
        /// One point per x with its interval as a whisker: the first series is the value, the
        /// second the lower bound, the third the upper bound.
        case intervals
    }

    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
    static let width = 880.0
    static let height = 320.0
    static let left = 78.0, right = 16.0, top = 40.0, bottom = 92.0

    /// Names the chart in the page (`data-chart`), for tests and links.
    let id: String
    let title: String
    let kind: Kind
    let xLabels: [String]
    let xTitle: String
    let yTitle: String
    let series: [ChartSeries]
    /// How a value is written on the y axis and in tooltips.
    var format: (Double) -> String = { ReportFormat.number($0, decimals: 0) }

    var svg: String {
        var out = "<svg class=\"chart\" data-chart=\"\(escape(id))\" role=\"img\" aria-label=\"\(escape(title))\" viewBox=\"0 0 \(Int(Self.width)) \(Int(Self.height))\" xmlns=\"http://www.w3.org/2000/svg\">"
        out += "<title>\(escape(title))</title>"
        out += text(title, x: Self.width / 2, y: 22, anchor: "middle", cssClass: "chart-title")
        let (low, high, step) = yScale
        let plotWidth = Self.width - Self.left - Self.right, plotHeight = Self.height - Self.top - Self.bottom
        func y(_ value: Double) -> Double { Self.top + plotHeight * (1 - (value - low) / (high - low)) }
        let slot = plotWidth / Double(max(xLabels.count, 1))
        func x(_ i: Int) -> Double { Self.left + slot * (Double(i) + 0.5) }
        // Grid and y ticks.
        var tick = low
        while tick <= high + step / 2 {
            out += "<line class=\"grid\" x1=\"\(f(Self.left))\" x2=\"\(f(Self.width - Self.right))\" y1=\"\(f(y(tick)))\" y2=\"\(f(y(tick)))\"/>"
            out += text(format(tick), x: Self.left - 6, y: y(tick) + 4, anchor: "end", cssClass: "tick")
            tick += step
        }
        if low < 0 { out += "<line class=\"zero\" x1=\"\(f(Self.left))\" x2=\"\(f(Self.width - Self.right))\" y1=\"\(f(y(0)))\" y2=\"\(f(y(0)))\"/>" }
        // X labels: at most about 14, evenly spaced.
        let every = max(1, Int((Double(xLabels.count) / 14).rounded(.up)))
        for (i, label) in xLabels.enumerated() where i % every == 0 {
            out += "<text class=\"tick\" text-anchor=\"end\" transform=\"translate(\(f(x(i) + 4)),\(f(Self.height - Self.bottom + 14))) rotate(-40)\">\(escape(label))</text>"
        }
        out += text(xTitle, x: Self.left + plotWidth / 2, y: Self.height - 26, anchor: "middle", cssClass: "axis-title")
        out += "<text class=\"axis-title\" text-anchor=\"middle\" transform=\"translate(16,\(f(Self.top + plotHeight / 2))) rotate(-90)\">\(escape(yTitle))</text>"
        out += "<g class=\"marks\">" + marks(x: x, y: y, slot: slot) + "</g>"
        out += legend
        return out + "</svg>"
    }

    private func marks(x: (Int) -> Double, y: (Double) -> Double, slot: Double) -> String {
        var out = ""
        switch kind {
        case .lines:
            for (s, line) in series.enumerated() {
                var path = ""
                var pen = false
                for (i, value) in line.values.enumerated() {
                    guard let value else { pen = false; continue }
                    path += (pen ? "L" : "M") + "\(f(x(i))),\(f(y(value)))"
                    pen = true
                }
                out += "<path fill=\"none\" stroke=\"\(color(s))\" stroke-width=\"2\" d=\"\(path)\"><title>\(escape(line.name))</title></path>"
                if line.values.count <= 60 {
                    for (i, value) in line.values.enumerated() {
                        guard let value else { continue }
                        out += "<circle cx=\"\(f(x(i)))\" cy=\"\(f(y(value)))\" r=\"3\" fill=\"\(color(s))\"><title>\(escape("\(line.name), \(xLabels[i]): \(format(value))"))</title></circle>"
                    }
                }
            }
        case .stackedArea:
            var base = Array(repeating: 0.0, count: xLabels.count)
            for (s, layer) in series.enumerated() {
                let top = zip(base, layer.values).map { $0 + ($1 ?? 0) }
                let upper = top.enumerated().map { "\(f(x($0))),\(f(y($1)))" }
                let lower = base.enumerated().reversed().map { "\(f(x($0))),\(f(y($1)))" }
                out += "<polygon fill=\"\(color(s))\" fill-opacity=\"0.85\" points=\"\((upper + lower).joined(separator: " "))\"><title>\(escape(layer.name))</title></polygon>"
                base = top
            }
        case .groupedBars, .stackedBars:
            let stacked = kind == .stackedBars
            let barWidth = slot * 0.8 / (stacked ? 1 : Double(max(series.count, 1)))
            var base = Array(repeating: 0.0, count: xLabels.count)
            for (s, bars) in series.enumerated() {
                for (i, value) in bars.values.enumerated() {
                    guard let value else { continue }
                    let from = stacked ? base[i] : 0
                    let left = x(i) - slot * 0.4 + (stacked ? 0 : barWidth * Double(s))
                    let yTop = y(max(from, from + value)), yBottom = y(min(from, from + value))
                    out += "<rect x=\"\(f(left))\" y=\"\(f(yTop))\" width=\"\(f(max(barWidth - 1, 1)))\" height=\"\(f(max(yBottom - yTop, 0)))\" fill=\"\(color(s))\"><title>\(escape("\(bars.name), \(xLabels[i]): \(format(value))"))</title></rect>"
                    if stacked { base[i] += value }
                }
            }
        case .intervals:
            guard series.count == 3 else { return "" }
            for i in xLabels.indices {
                guard let value = series[0].values[i], let lower = series[1].values[i], let upper = series[2].values[i] else { continue }
                out += "<line stroke=\"\(color(0))\" stroke-width=\"2\" x1=\"\(f(x(i)))\" x2=\"\(f(x(i)))\" y1=\"\(f(y(lower)))\" y2=\"\(f(y(upper)))\"/>"
                for end in [lower, upper] {
                    out += "<line stroke=\"\(color(0))\" stroke-width=\"2\" x1=\"\(f(x(i) - 5))\" x2=\"\(f(x(i) + 5))\" y1=\"\(f(y(end)))\" y2=\"\(f(y(end)))\"/>"
                }
                out += "<circle cx=\"\(f(x(i)))\" cy=\"\(f(y(value)))\" r=\"4\" fill=\"\(color(1))\"><title>\(escape("\(xLabels[i]): \(format(value)) (95 % CI \(format(lower)) … \(format(upper)))"))</title></circle>"
            }
        }
        return out
    }

    /// Swatches in a row under the x axis title (an interval chart explains itself in its title).
    private var legend: String {
        guard kind != .intervals else { return "" }
        var out = "<g class=\"legend\">"
        var position = Self.left
        for (s, entry) in series.enumerated() {
            out += "<rect x=\"\(f(position))\" y=\"\(f(Self.height - 14))\" width=\"10\" height=\"10\" fill=\"\(color(s))\"/>"
            out += text(entry.name, x: position + 14, y: Self.height - 5, anchor: "start", cssClass: "legend-label")
            position += 24 + Double(entry.name.count) * 7
        }
        return out + "</g>"
    }

    /// The y axis range, with 0 in it, and a tick step of 1, 2 or 5 × 10ⁿ giving about 5 ticks.
    private var yScale: (low: Double, high: Double, step: Double) {
        var low = 0.0, high = 0.0
        switch kind {
        case .stackedArea, .stackedBars:
            for i in xLabels.indices {
                let values = series.compactMap { $0.values[i] }
                high = max(high, values.filter { $0 > 0 }.reduce(0, +))
                low = min(low, values.filter { $0 < 0 }.reduce(0, +))
            }
        default:
            for value in series.flatMap(\.values).compactMap({ $0 }) {
                high = max(high, value)
                low = min(low, value)
            }
        }
        if high == low { high = low + 1 }
        let rough = (high - low) / 5
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        return ((low / step).rounded(.down) * step, (high / step).rounded(.up) * step, step)
    }

    private func color(_ index: Int) -> String { Self.palette[index % Self.palette.count] }

    private func text(_ content: String, x: Double, y: Double, anchor: String, cssClass: String) -> String {
        "<text class=\"\(cssClass)\" x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\">\(escape(content))</text>"
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    private func escape(_ text: String) -> String { ReportFormat.escapeHTML(text) }
}
