import CYAML
import SluiceCore

/// Reads YAML with the system libyaml's event parser into `YAMLNode`s that keep
/// `file:line:col`. Refuses, with a located diagnostic, what would hurt the compiler:
/// alias bombs, absurd nesting, duplicate keys.
public struct YAMLReader {
    /// Expanded nodes one document may have when aliases are counted as copies. Reference
    /// specs have a few thousand; the billion-laughs document has 10^9.
    public static let maxExpandedNodes = 1_000_000
    /// Deeper nesting is not a spec; it is a stack-exhaustion attempt.
    public static let maxDepth = 128

    public let file: String

    public init(file: String) { self.file = file }

    public struct Failure: Error { public var diagnostics: [Diagnostic] }

    /// Parses the first document. Empty input gives an empty mapping.
    public func read(_ bytes: [UInt8]) -> (root: YAMLNode?, diagnostics: [Diagnostic]) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return (nil, [YAMLDiagnostics.syntax("libyaml could not initialise its parser", at: .init(file: file, line: 1, column: 1))])
        }
        defer { yaml_parser_delete(&parser) }

        var diagnostics: [Diagnostic] = []
        var builder = TreeBuilder(file: file)
        let root: YAMLNode? = bytes.withUnsafeBufferPointer { buffer -> YAMLNode? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var documents = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    diagnostics.append(syntaxError(parser))
                    return nil
                }
                defer { yaml_event_delete(&event) }
                let type = event.type
                if type == YAML_STREAM_END_EVENT { break }
                if type == YAML_DOCUMENT_START_EVENT {
                    documents += 1
                    if documents > 1 {
                        diagnostics.append(
                            YAMLDiagnostics.syntax(
                                "a spec file holds one YAML document; use 'include:' to combine files",
                                at: location(event.start_mark)))
                        return builder.root
                    }
                }
                if let problem = builder.consume(&event, at: location(event.start_mark)) {
                    diagnostics.append(problem)
                    return nil
                }
            }
            return builder.root
        }
        diagnostics += builder.diagnostics
        if root == nil && diagnostics.isEmpty {
            return (YAMLNode(kind: .mapping([]), location: .init(file: file, line: 1, column: 1), expandedSize: 1), [])
        }
        return (root, diagnostics)
    }

    private func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private func syntaxError(_ parser: yaml_parser_t) -> Diagnostic {
        let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
        var message = problem
        if let context = parser.context.map({ String(cString: $0) }) { message = "\(problem) \(context)" }
        var diagnostic = YAMLDiagnostics.syntax(message, at: location(parser.problem_mark))
        if parser.context != nil {
            diagnostic.notes.append(RelatedNote("the construct started here", at: location(parser.context_mark)))
        }
        return diagnostic
    }
}

/// Turns the event stream into nodes with an explicit stack (no recursion, so depth is bounded by us).
private struct TreeBuilder {
    let file: String
    var root: YAMLNode?
    var diagnostics: [Diagnostic] = []
    private var anchors: [String: YAMLNode] = [:]
    private var stack: [Frame] = []

    private struct Frame {
        var isMapping: Bool
        var location: SourceLocation
        var anchor: String?
        var items: [YAMLNode] = []
        var size = 1
    }

    init(file: String) { self.file = file }

    /// Returns a diagnostic when reading must stop.
    mutating func consume(_ event: inout yaml_event_t, at location: SourceLocation) -> Diagnostic? {
        switch event.type {
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: data.value, count: data.length), as: UTF8.self)
            let plain = data.style == YAML_PLAIN_SCALAR_STYLE
            let node = YAMLNode(kind: .scalar(text, plain: plain), location: location, expandedSize: 1)
            if let anchor = data.anchor { anchors[String(cString: anchor)] = node }
            return add(node)
        case YAML_ALIAS_EVENT:
            let name = String(cString: event.data.alias.anchor)
            guard let node = anchors[name] else {
                return YAMLDiagnostics.syntax("alias '*\(name)' refers to no anchor defined before it", at: location)
            }
            return add(node, aliasAt: location)
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            guard stack.count < YAMLReader.maxDepth else {
                return YAMLDiagnostics.tooDeep(limit: YAMLReader.maxDepth, at: location)
            }
            let anchorPointer = event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor : event.data.mapping_start.anchor
            stack.append(
                Frame(
                    isMapping: event.type == YAML_MAPPING_START_EVENT, location: location,
                    anchor: anchorPointer.map { String(cString: $0) }))
            return nil
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            let frame = stack.removeLast()
            let node: YAMLNode
            if frame.isMapping {
                var pairs: [(key: YAMLNode, value: YAMLNode)] = []
                var index = 0
                while index + 1 < frame.items.count {
                    pairs.append((frame.items[index], frame.items[index + 1]))
                    index += 2
                }
                node = YAMLNode(kind: .mapping(resolveMerges(pairs)), location: frame.location, expandedSize: frame.size)
            } else {
                node = YAMLNode(kind: .sequence(frame.items), location: frame.location, expandedSize: frame.size)
            }
            if let anchor = frame.anchor { anchors[anchor] = node }
            return add(node)
        default:
            return nil
        }
    }

    private mutating func add(_ node: YAMLNode, aliasAt aliasLocation: SourceLocation? = nil) -> Diagnostic? {
        guard !stack.isEmpty else {
            root = node
            return nil
        }
        stack[stack.count - 1].items.append(node)
        // Every open collection grows by the node's expanded size; the outermost is the document.
        for i in stack.indices { stack[i].size += node.expandedSize }
        if stack[0].size > YAMLReader.maxExpandedNodes {
            return YAMLDiagnostics.aliasBomb(limit: YAMLReader.maxExpandedNodes, at: aliasLocation ?? node.location)
        }
        return nil
    }

    /// YAML merge keys (`<<: *base` or `<<: [*a, *b]`): keys written in the mapping win over merged
    /// ones, earlier merged mappings over later ones. Duplicate written keys are reported.
    private mutating func resolveMerges(_ pairs: [(key: YAMLNode, value: YAMLNode)]) -> [(key: YAMLNode, value: YAMLNode)] {
        var written: [(key: YAMLNode, value: YAMLNode)] = []
        var seen: [String: SourceLocation] = [:]
        var merged: [(key: YAMLNode, value: YAMLNode)] = []
        for pair in pairs {
            if pair.key.isPlainScalar, pair.key.scalar == "<<" {
                let sources = pair.value.mapping != nil ? [pair.value] : (pair.value.sequence ?? [])
                for source in sources {
                    guard let entries = source.mapping else {
                        diagnostics.append(
                            YAMLDiagnostics.wrongType(
                                expected: "a mapping (or list of mappings) to merge", found: source, at: source.location))
                        continue
                    }
                    merged += entries
                }
                if sources.isEmpty {
                    diagnostics.append(
                        YAMLDiagnostics.wrongType(
                            expected: "a mapping (or list of mappings) to merge", found: pair.value, at: pair.value.location))
                }
                continue
            }
            if let key = pair.key.scalar {
                if let first = seen[key] {
                    diagnostics.append(YAMLDiagnostics.duplicateKey(key, at: pair.key.location, first: first))
                    continue
                }
                seen[key] = pair.key.location
            }
            written.append(pair)
        }
        for pair in merged {
            guard let key = pair.key.scalar, seen[key] == nil else { continue }
            seen[key] = pair.key.location
            written.append(pair)
        }
        return written
    }
}
