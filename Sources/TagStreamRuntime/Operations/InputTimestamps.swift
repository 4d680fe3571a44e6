import HeapModule

/// The Kafka timestamps of accepted input records, kept by event time until the engine has applied
/// them, so that an output record an event caused can be traced back to when its input entered
/// Kafka. The engine applies events in event-time order and an event's records carry its `ts`,
/// so the oldest entries are always the ones asked for next.
struct InputTimestamps {
    private struct Entry: Comparable {
        var eventTime: Int64
        var kafkaTimestamp: Int64
        static func < (a: Self, b: Self) -> Bool { a.eventTime < b.eventTime }
    }

    private var entries = Heap<Entry>()

    var count: Int { entries.count }

    /// Remembers an accepted record: its event's `ts` and the record's Kafka timestamp (epoch ms).
    mutating func accepted(eventTime: Int64, kafkaTimestamp: Int64) {
        entries.insert(Entry(eventTime: eventTime, kafkaTimestamp: kafkaTimestamp))
    }

    /// The Kafka timestamp of the input whose event has this `ts` (the earliest of several), or nil.
    /// Entries before it are forgotten: their events are applied.
    mutating func kafkaTimestamp(ofEventAt eventTime: Int64) -> Int64? {
        while let first = entries.min, first.eventTime < eventTime { entries.removeMin() }
        guard let first = entries.min, first.eventTime == eventTime else { return nil }
        return first.kafkaTimestamp
    }

    /// Forgets the entries of events before `watermark`: the engine has applied them.
    mutating func forget(before watermark: Int64) {
        while let first = entries.min, first.eventTime < watermark { entries.removeMin() }
    }
}
