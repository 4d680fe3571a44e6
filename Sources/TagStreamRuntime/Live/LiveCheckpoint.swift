import Foundation
import Kafka
import TagStreamCore

/// Where a live run stands at a checkpoint: the partitions the engine knows (in its own order),
/// where each input partition continues, where each output partition ended, the records before
/// those ends still to be suppressed, the output counts so far, and for one task of a run split by
/// partition, where it reads the refresh exchange and whether it has finished a bounded run.
/// Sealed together with the processor's snapshot (engine and sequencer with its buffer).
public struct LiveCheckpoint {
    public var partitions: [TopicPartition]
    /// The offset after the last record processed, per partition in `partitions`; -1: none yet.
    public var nextOffsets: [Int64]
    /// Each output partition's end offset once every output so far was acknowledged.
    public var outputEnds: [TopicPartition: Int64]
    /// Records an earlier run produced that this one has not created again yet (a restore that
    /// checkpoints before it has caught up), by `OutputSuppressor` identity: how many times each.
    public var suppressions: [UInt64: Int]
    public var tally: OutputTally
    /// Where a task of a split run reads on in the refresh exchange; nil: not a task.
    public var exchange: KafkaRefreshExchange.Resume?
    /// Whether the task has finished its bounded run (`--stop-at-end`): the others have agreed on
    /// the end with it, so a restore of it has nothing left to do.
    public var finished = false

    public init(partitions: [TopicPartition], nextOffsets: [Int64], outputEnds: [TopicPartition: Int64],
                suppressions: [UInt64: Int] = [:], tally: OutputTally) {
        self.partitions = partitions
        self.nextOffsets = nextOffsets
        self.outputEnds = outputEnds
        self.suppressions = suppressions
        self.tally = tally
    }

    /// The input offsets to continue from.
    var inputOffsets: [TopicPartition: Int64] {
        Dictionary(uniqueKeysWithValues: zip(partitions, nextOffsets).filter { $0.1 >= 0 })
    }

    /// This position and the processor's snapshot, sealed in one buffer.
    public func encode(_ processor: Processor, pipeline: Pipeline, sizeHint: Int = 0) throws -> [UInt8] {
        let tallyJSON = Array(try JSONEncoder().encode(tally))
        return SnapshotEnvelope.seal(pipelineFingerprint: pipeline.fingerprint, capacity: sizeHint) { w in
            w.write(partitions) { w, tp in w.write(tp.topic); w.write(tp.partition) }
            w.write(nextOffsets) { w, offset in w.write(offset) }
            w.write(outputEnds.sorted { $0.key.description < $1.key.description }) { w, end in
                w.write(end.key.topic); w.write(end.key.partition); w.write(end.value)
            }
            w.write(suppressions.sorted { $0.key < $1.key }) { w, s in w.write(s.key); w.write(s.value) }
            w.write(raw: tallyJSON)
            w.write(exchange != nil)
            if let exchange {
                w.write(exchange.position)
                w.write(exchange.completed.sorted()) { w, step in w.write(step) }
            }
            w.write(finished)
            processor.write(to: &w)
        }
    }

    /// The position, and a reader of the processor's snapshot (restore it once the partitions are added).
    public static func decode(_ bytes: [UInt8], pipeline: Pipeline) throws -> (LiveCheckpoint, processor: SnapshotReader) {
        var r = try SnapshotEnvelope.open(bytes, pipelineFingerprint: pipeline.fingerprint)
        let partitions = try r.readArray { TopicPartition(topic: try $0.readString(), partition: try $0.readInt32()) }
        let nextOffsets = try r.readArray { try $0.readInt64() }
        let ends = try r.readArray { (TopicPartition(topic: try $0.readString(), partition: try $0.readInt32()), try $0.readInt64()) }
        let suppressions = try r.readArray { (try $0.readUInt64(), try $0.readInt()) }
        let tally = try JSONDecoder().decode(OutputTally.self, from: Data(try r.readRaw()))
        guard nextOffsets.count == partitions.count else { throw SnapshotError("checkpoint is corrupt: offsets do not match partitions") }
        var checkpoint = LiveCheckpoint(partitions: partitions, nextOffsets: nextOffsets, outputEnds: Dictionary(uniqueKeysWithValues: ends),
                                        suppressions: Dictionary(uniqueKeysWithValues: suppressions), tally: tally)
        if try r.readBool() {
            checkpoint.exchange = KafkaRefreshExchange.Resume(position: try r.readInt64(), completed: Set(try r.readArray { try $0.readString() }))
        }
        checkpoint.finished = try r.readBool()
        return (checkpoint, r)
    }

    /// For operators: offsets by `topic[partition]`, and the engine's size.
    public func summary(_ processor: Processor) -> CheckpointSummary {
        var summary = CheckpointSummary(processor: processor,
                                        inputs: Dictionary(uniqueKeysWithValues: inputOffsets.map { ($0.key.description, $0.value) }),
                                        outputs: Dictionary(uniqueKeysWithValues: outputEnds.map { ($0.key.description, $0.value) }))
        if exchange != nil { summary.finished = finished }
        return summary
    }
}
