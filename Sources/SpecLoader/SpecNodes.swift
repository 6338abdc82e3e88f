import Foundation
import SluiceCore
import YAML

/// Reads the node tree a Swift spec writes (SluiceDSL's `sluice-spec-nodes/1` JSON) into the same
/// `YAMLNode`s the YAML reader makes, so one decoder serves both forms.
public enum SpecNodes {
    public static let format = "sluice-spec-nodes/1"

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    /// `locate` turns a recorded file, line and column into the position diagnostics should show.
    public static func read(_ data: Data, locate: (String, Int, Int) -> SourceLocation) throws -> YAMLNode {
        guard let top = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw Malformed(description: "not a JSON object") }
        guard top["format"] as? String == format else {
            throw Malformed(description: "written by another SluiceDSL version (format \(top["format"] ?? "none"), expected \(format))")
        }
        let files = top["files"] as? [String] ?? []
        guard let root = top["root"] else { throw Malformed(description: "no root node") }
        return try node(root, files: files, locate: locate, depth: 0)
    }

    private static func node(_ value: Any, files: [String], locate: (String, Int, Int) -> SourceLocation, depth: Int) throws -> YAMLNode {
        guard depth < YAMLReader.maxDepth, let object = value as? [String: Any] else { throw Malformed(description: "a node is not an object") }
        guard let at = object["at"] as? [Int], at.count == 3, files.indices.contains(at[0]) else {
            throw Malformed(description: "a node has no position")
        }
        let location = locate(files[at[0]], at[1], at[2])
        if let text = object["s"] as? String {
            return YAMLNode(kind: .scalar(text, plain: object["p"] as? Bool ?? false), location: location, expandedSize: 1)
        }
        if let items = object["l"] as? [Any] {
            let children = try items.map { try node($0, files: files, locate: locate, depth: depth + 1) }
            return YAMLNode(kind: .sequence(children), location: location, expandedSize: 1 + children.reduce(0) { $0 + $1.expandedSize })
        }
        if let pairs = object["m"] as? [[Any]] {
            var children: [(key: YAMLNode, value: YAMLNode)] = []
            for pair in pairs {
                guard pair.count == 2, let key = pair[0] as? String else { throw Malformed(description: "a mapping entry is not [key, node]") }
                let child = try node(pair[1], files: files, locate: locate, depth: depth + 1)
                children.append((YAMLNode(kind: .scalar(key, plain: true), location: child.location, expandedSize: 1), child))
            }
            return YAMLNode(kind: .mapping(children), location: location, expandedSize: 1 + children.reduce(0) { $0 + $1.value.expandedSize })
        }
        throw Malformed(description: "a node is neither a scalar, a list nor a mapping")
    }
}

extension SpecLoader {
    /// Decodes a tree that did not come from a YAML file (a Swift spec). A key written twice in one
    /// mapping (two `Project`s, two `Source`s in a pipeline) is reported at both declarations.
    public static func load(root: YAMLNode, file: String) -> LoadResult {
        let sink = DiagnosticSink()
        reportDuplicateKeys(root, sink: sink)
        // The decoder reads one value per key; with a key written twice it would judge one of them only.
        guard !sink.diagnostics.hasErrors else { return LoadResult(spec: nil, diagnostics: sink.diagnostics.sortedForOutput(), root: root) }
        return decode(root, file: file, sink: sink)
    }

    private static func reportDuplicateKeys(_ node: YAMLNode, sink: DiagnosticSink) {
        switch node.kind {
        case .scalar: return
        case .sequence(let items): items.forEach { reportDuplicateKeys($0, sink: sink) }
        case .mapping(let pairs):
            var first: [String: SourceLocation] = [:]
            for pair in pairs {
                let key = pair.key.scalar ?? ""
                if let earlier = first[key] {
                    sink.add(LoaderDiagnostics.duplicateKey(key, at: pair.key.location, first: earlier))
                } else {
                    first[key] = pair.key.location
                }
                reportDuplicateKeys(pair.value, sink: sink)
            }
        }
    }
}
