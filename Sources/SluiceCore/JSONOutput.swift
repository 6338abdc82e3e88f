import Foundation

/// Every JSON Sluice writes (plan.json, each `--format json` report) is encoded here: keys sorted and
/// indented, slashes left alone, so the same value is always the same bytes and a diff reads well.
public enum JSONOutput {
    public static func text<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
