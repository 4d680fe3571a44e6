/// Alerts per ISO week (of the alert's `ts`) and alert name.
struct AlertWeeks {
    /// Consecutive weeks from the first alert's to the last one's.
    let weeks: [String]
    let alerts: [String]
    /// By alert name, one count per week.
    let counts: [String: [Int]]

    static func read(_ directory: ReplayDirectory, progress: ReportProgress) throws -> AlertWeeks {
        var byWeek: [String: [String: Int]] = [:]
        var span: ClosedRange<Int64>?
        if directory.contains(ReplayDirectory.alertFile) {
            try RecordFileReader.forEach(AlertRecord.self, in: directory.path(of: ReplayDirectory.alertFile),
                                         progress: { progress.lines($0, of: "alerts") }) { record, _ in
                byWeek[record.alert, default: [:]][ReportCalendar.isoWeek(record.ts), default: 0] += 1
                span = span.map { min($0.lowerBound, record.ts)...max($0.upperBound, record.ts) } ?? record.ts...record.ts
            }
        }
        // Every week between, also the quiet ones: a week with no alert is a zero on the chart.
        let weeks = span.map { span in
            stride(from: ReportCalendar.dayIndex(span.lowerBound), through: ReportCalendar.dayIndex(span.upperBound) + 6, by: 7)
                .map { ReportCalendar.isoWeek(ReportCalendar.start(ofDay: $0)) }
                .filter { $0 <= ReportCalendar.isoWeek(span.upperBound) }
        } ?? []
        return AlertWeeks(weeks: weeks, alerts: byWeek.keys.sorted(),
                          counts: byWeek.mapValues { perWeek in weeks.map { perWeek[$0] ?? 0 } })
    }

    var json: ReportJSON {
        .object([
            "weeks": .array(weeks.map(ReportJSON.string)),
            "alerts": .object(counts.mapValues { .array($0.map(ReportJSON.integer)) }),
        ])
    }
}
