import Foundation
import TagStreamCore

/// What each user paid net of refunds per calendar month, from the event files a replay read:
/// the revenue side of ARPU.
struct InputOrders {
    /// Net amount (`order_paid` − `order_refunded`) by month index, then user.
    private(set) var netByMonth: [Int64: [String: Money]] = [:]

    /// Net amount per user over the whole replay.
    var netByUser: [String: Money] {
        netByMonth.values.reduce(into: [:]) { total, month in
            for (user, amount) in month { total[user, default: .zero] += amount }
        }
    }

    /// Reads the order events the replay applied, judged as the engine judges them: decoded by the
    /// engine's decoder (dead letters and unknown types left out), the first of each `event_id`
    /// (a later one is a duplicate), lines found in `late.jsonl` left out, and nothing after the
    /// last applied event. Two approximations, both documented in docs/report.md: files are read one
    /// after the other rather than interleaved by watermark, which only matters for an `event_id`
    /// in two files; and an `event_id` counts as a duplicate however long after the first it comes.
    static func read(files: [String], lateFile: String?, lastApplied: Int64, progress: ReportProgress) throws -> InputOrders {
        var late: [Data: Int] = [:]
        if let lateFile, FileManager.default.fileExists(atPath: lateFile) {
            let reader = try LineReader(path: lateFile)
            while let line = try reader.nextLine() { late[Data(line), default: 0] += 1 }
        }
        var orders = InputOrders()
        var decoder = EventDecoder()
        var symbols = SymbolTable()
        var accepted = Set<String>()
        for file in files {
            let reader = try LineReader(path: file)
            while let line = try reader.nextLine() {
                if reader.lineNumber % 65_536 == 0 { progress.lines(reader.lineNumber, of: (file as NSString).lastPathComponent) }
                guard case let .event(event) = decoder.decode(line, symbols: &symbols), event.type.isOrder else { continue }
                guard !accepted.contains(event.eventID) else { continue }
                if !late.isEmpty, let count = late[Data(line)], count > 0 {
                    late[Data(line)] = count - 1
                    continue
                }
                accepted.insert(event.eventID)
                guard event.ts <= lastApplied else { continue }
                let month = ReportCalendar.monthIndex(event.ts)
                let user = symbols.users[event.user]
                let signed = event.type == .orderPaid ? event.amount : Money.zero - event.amount
                orders.netByMonth[month, default: [:]][user, default: .zero] += signed
            }
        }
        return orders
    }
}
