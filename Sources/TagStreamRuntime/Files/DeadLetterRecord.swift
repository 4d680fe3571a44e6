import Foundation
import TagStreamCore

/// The machine-readable dead-letter record: the reason, where the record came from, and its
/// original bytes (`raw`, or `raw_base64` when they are not UTF-8). Shared by files and Kafka.
struct DeadLetterRecord {
    private let writer = JSONWriter()

    /// Encodes one dead letter; `source` writes the location fields (file and line, or topic, partition and offset).
    func encode<Raw: Collection>(_ raw: Raw, reason: DeadLetterReason, source: (JSONWriter) -> Void) -> [UInt8]
    where Raw.Element == UInt8 {
        writer.reset()
        writer.beginObject()
        writer.key("reason"); writer.string(reason.code)
        writer.key("field"); writer.string(reason.field)
        writer.key("message"); writer.string(reason.message)
        source(writer)
        if let text = String(validating: raw, as: UTF8.self) {
            writer.key("raw"); writer.string(text)
        } else {
            writer.key("raw_base64"); writer.string(Data(raw).base64EncodedString())
        }
        writer.endObject()
        return writer.bytes
    }
}
