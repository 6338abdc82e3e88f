import Foundation
import SluiceCore
import YAML

/// Collects diagnostics while a spec is decoded; decoding goes on after an error so one run reports everything.
final class DiagnosticSink {
    var diagnostics: [Diagnostic] = []
    func add(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    /// Keys written in the spec that the decoder has not looked at yet, by where the key is written:
    /// after a whole decode, one left here is a key the schema allows and the decoder drops.
    var unread: [SourceLocation: String] = [:]
    /// Every `section.key` written, read or not.
    var written: Set<String> = []
    /// Where each key is written, in order: the schema tests change a spec key by key through it.
    var occurrences: [KeyOccurrence] = []
}

/// One key as written in a spec, with the schema section it was read against.
public struct KeyOccurrence: Sendable {
    public let section: SchemaSection
    public let key: String
    /// Where the key (not its value) is written.
    public let location: SourceLocation
}

/// Reads one YAML mapping of a schema section. Keys the section does not take are reported (with the
/// closest one it does) as soon as the reader is made; accessors report wrong types at the value.
struct MapReader {
    let node: YAMLNode
    let section: SchemaSection
    let context: String
    let sink: DiagnosticSink
    private let entries: [String: (key: YAMLNode, value: YAMLNode)]

    /// Nil (with a diagnostic) when `node` is not a mapping. `context` names the mapping in messages
    /// when the section's name is not enough ("field 'user.id'").
    init?(_ node: YAMLNode, _ section: SchemaSection, context: String? = nil, sink: DiagnosticSink) {
        let context = context ?? section.name
        guard let pairs = node.mapping else {
            sink.add(LoaderDiagnostics.wrongType(expected: "a mapping for \(context)", found: node, at: node.location))
            return nil
        }
        self.node = node
        self.section = section
        self.context = context
        self.sink = sink
        var entries: [String: (key: YAMLNode, value: YAMLNode)] = [:]
        for pair in pairs {
            guard let key = pair.key.scalar else {
                sink.add(LoaderDiagnostics.wrongType(expected: "a plain key", found: pair.key, at: pair.key.location))
                continue
            }
            if !section.keys.contains(key) {
                sink.add(
                    LoaderDiagnostics.unknownKey(
                        key, in: context, suggestion: Suggestion.closest(to: key, among: section.keys),
                        at: pair.key.location))
                continue
            }
            entries[key] = pair
            sink.unread[pair.key.location] = "\(section.name).\(key)"
            sink.written.insert("\(section.name).\(key)")
            sink.occurrences.append(KeyOccurrence(section: section, key: key, location: pair.key.location))
        }
        self.entries = entries
    }

    /// The entry of `key`, marked as read.
    private func entry(_ key: String) -> (key: YAMLNode, value: YAMLNode)? {
        guard let entry = entries[key] else { return nil }
        sink.unread[entry.key.location] = nil
        return entry
    }

    var location: SourceLocation { node.location }

    /// Whether the key is written at all, even with a null value.
    func contains(_ key: String) -> Bool { entry(key) != nil }

    func has(_ key: String) -> Bool { entry(key).map { !$0.value.isNull } ?? false }

    /// The value node, nil when absent or null. Reports a missing required key.
    func value(_ key: String, required: Bool = false) -> YAMLNode? {
        if let entry = entry(key), !entry.value.isNull { return entry.value }
        if required { sink.add(LoaderDiagnostics.missingKey(key, in: context, at: node.location)) }
        return nil
    }

    /// Where the key's value is (or the mapping, when it is absent): what a finding about it points at.
    func location(of key: String) -> SourceLocation { entry(key)?.value.location ?? node.location }
    func keyLocation(of key: String) -> SourceLocation { entry(key)?.key.location ?? node.location }

    func string(_ key: String, required: Bool = false) -> String? {
        guard let value = value(key, required: required) else { return nil }
        guard let text = value.scalar else {
            sink.add(LoaderDiagnostics.wrongType(expected: "a string for '\(key)'", found: value, at: value.location))
            return nil
        }
        return text
    }

    func int(_ key: String, in range: ClosedRange<Int>, required: Bool = false) -> Int? {
        guard let value = value(key, required: required) else { return nil }
        guard value.isPlainScalar, let text = value.scalar, let number = Int(text.replacingOccurrences(of: "_", with: "")) else {
            sink.add(LoaderDiagnostics.wrongType(expected: "a whole number for '\(key)'", found: value, at: value.location))
            return nil
        }
        guard range.contains(number) else {
            sink.add(
                LoaderDiagnostics.wrongType(
                    expected: "a number from \(range.lowerBound) to \(range.upperBound) for '\(key)'", found: value, at: value.location))
            return nil
        }
        return number
    }

    func bool(_ key: String) -> Bool? {
        guard let value = value(key) else { return nil }
        switch (value.isPlainScalar, value.scalar) {
        case (true, "true"?), (true, "True"?), (true, "TRUE"?): return true
        case (true, "false"?), (true, "False"?), (true, "FALSE"?): return false
        default:
            sink.add(LoaderDiagnostics.wrongType(expected: "true or false for '\(key)'", found: value, at: value.location))
            return nil
        }
    }

    /// One of the words the schema allows for `key` (a subnet's type), as the model's enum.
    func word<T: RawRepresentable>(_ key: String, as type: T.Type, required: Bool = false) -> T? where T.RawValue == String {
        word(key, required: required).flatMap(T.init(rawValue:))
    }

    /// One of the words the schema allows for `key`; any other is reported with the allowed ones.
    func word(_ key: String, required: Bool = false, caseInsensitive: Bool = false) -> String? {
        let allowed = section.allowed(key)
        precondition(!allowed.isEmpty, "the schema lists no words for \(section.name).\(key)")
        guard let text = string(key, required: required) else { return nil }
        if allowed.contains(where: { caseInsensitive ? $0.caseInsensitiveCompare(text) == .orderedSame : $0 == text }) { return text }
        sink.add(LoaderDiagnostics.badWord(text, for: key, allowed: allowed, at: location(of: key)))
        return nil
    }

    /// Each of a list of words the schema allows for `key`, the others reported where they are written.
    func words(_ key: String, required: Bool = false, caseInsensitive: Bool = false) -> [Located<String>] {
        let allowed = section.allowed(key)
        precondition(!allowed.isEmpty, "the schema lists no words for \(section.name).\(key)")
        return strings(key, required: required).filter { word in
            let matches = caseInsensitive ? allowed.contains { $0.caseInsensitiveCompare(word.value) == .orderedSame } : allowed.contains(word.value)
            if !matches { sink.add(LoaderDiagnostics.badWord(word.value, for: key, allowed: allowed, at: word.location)) }
            return matches
        }
    }

    /// A list of strings; a single scalar is accepted as a one-element list.
    func strings(_ key: String, required: Bool = false) -> [Located<String>] {
        guard let value = value(key, required: required) else { return [] }
        return SpecDecoder.strings(value, key: key, sink: sink)
    }

    /// Each element of a list of mappings; a mapping alone is not accepted (lists are lists).
    func list(_ key: String, required: Bool = false) -> [YAMLNode] {
        guard let value = value(key, required: required) else { return [] }
        guard let items = value.sequence else {
            sink.add(LoaderDiagnostics.wrongType(expected: "a list for '\(key)'", found: value, at: value.location))
            return []
        }
        return items
    }

    /// A mapping of string keys to string values (tags, environment), sorted by key for determinism.
    func stringMap(_ key: String) -> [(key: String, value: String, location: SourceLocation)] {
        guard let value = value(key) else { return [] }
        guard let pairs = value.mapping else {
            sink.add(LoaderDiagnostics.wrongType(expected: "a mapping for '\(key)'", found: value, at: value.location))
            return []
        }
        var out: [(key: String, value: String, location: SourceLocation)] = []
        for pair in pairs {
            guard let k = pair.key.scalar, let v = pair.value.scalar, !pair.value.isNull else {
                sink.add(
                    LoaderDiagnostics.wrongType(
                        expected: "string keys and values in '\(key)'", found: pair.value,
                        at: pair.value.location))
                continue
            }
            out.append((k, v, pair.value.location))
        }
        return out.sorted { $0.key < $1.key }
    }
}

/// A value with the position it was written at.
struct Located<T> {
    var value: T
    var location: SourceLocation
}

extension SpecDecoder {
    static func strings(_ node: YAMLNode, key: String, sink: DiagnosticSink) -> [Located<String>] {
        if let scalar = node.scalar, !node.isNull { return [Located(value: scalar, location: node.location)] }
        guard let items = node.sequence else {
            sink.add(LoaderDiagnostics.wrongType(expected: "a string or list of strings for '\(key)'", found: node, at: node.location))
            return []
        }
        var out: [Located<String>] = []
        for item in items {
            guard let text = item.scalar, !item.isNull else {
                sink.add(LoaderDiagnostics.wrongType(expected: "a string in '\(key)'", found: item, at: item.location))
                continue
            }
            out.append(Located(value: text, location: item.location))
        }
        return out
    }
}
