import SpecLoader
import YAML

/// Swift source text: literals, calls that wrap when long, and `{ … }` blocks, indented by four.
struct SwiftSource {
    private(set) var lines: [String] = []
    private var depth = 0
    static let width = 120

    /// Adds an expression or statement; a multi-line one (a `"""` literal, a wrapped call) is indented as a whole.
    mutating func add(_ text: String) {
        let indent = String(repeating: "    ", count: depth)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lines.append(line.allSatisfy(\.isWhitespace) ? "" : indent + line)
        }
    }

    mutating func blank() { if lines.last?.isEmpty == false { lines.append("") } }

    /// `head {`, the body one level in, `}`.
    mutating func block(_ head: String, _ body: (inout SwiftSource) -> Void) {
        add(head + " {")
        depth += 1
        body(&self)
        depth -= 1
        add("}")
    }

    var text: String { lines.joined(separator: "\n") + "\n" }

    // MARK: Expressions

    /// `Name(a, label: b)`, one argument per line when it would not fit or an argument spans lines.
    /// Nil arguments are left out: the DSL's default is the YAML loader's default.
    static func call(_ name: String, _ arguments: [(label: String, value: String?)]) -> String {
        let given = arguments.compactMap { argument in argument.value.map { argument.label.isEmpty ? $0 : "\(argument.label): \($0)" } }
        let flat = "\(name)(\(given.joined(separator: ", ")))"
        if flat.count <= width - 16 && !flat.contains("\n") { return flat }
        let body = given.map { $0.replacingOccurrences(of: "\n", with: "\n    ") }
        return "\(name)(\n    " + body.joined(separator: ",\n    ") + "\n)"
    }

    /// A Swift string literal: raw (`#"…"#`) for regular expressions with backslashes, `"""` for several lines.
    static func string(_ text: String) -> String {
        // A `"""` literal only where it reads back exactly: trailing blanks are invisible there (and editors drop them).
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let blockSafe = !lines.contains { $0.last == " " || $0.last == "\t" || $0.contains("\r") }
        if text.contains("\n"), blockSafe {
            var body = text
            let endsWithNewline = body.hasSuffix("\n")
            if endsWithNewline { body.removeLast() }
            let escaped = body.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"\"\"", with: "\\\"\"\"")
            let content = escaped.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "    " + $0 }
            return "\"\"\"\n" + content.joined(separator: "\n") + (endsWithNewline ? "\n" : "") + "\n    \"\"\""
        }
        let isControl: (Unicode.Scalar) -> Bool = { $0.value < 0x20 || $0.value == 0x7f }
        if text.contains("\\"), !text.contains("\"#"), !text.unicodeScalars.contains(where: isControl) {
            return "#\"" + text + "\"#"
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case _ where isControl(scalar): out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func strings(_ items: [String]) -> String { list(items.map(string)) }

    /// `[a, b]`, or one element per line when that would be long.
    static func list(_ elements: [String]) -> String {
        let flat = "[" + elements.joined(separator: ", ") + "]"
        if flat.count <= width - 40 && !flat.contains("\n") { return flat }
        return "[\n" + elements.map { "    " + $0.replacingOccurrences(of: "\n", with: "\n    ") + ",\n" }.joined() + "]"
    }

    static func dictionary(_ pairs: [(key: String, value: String)]) -> String {
        pairs.isEmpty ? "[:]" : "[" + pairs.map { "\(string($0.key)): \(string($0.value))" }.joined(separator: ", ") + "]"
    }

    /// `.camelCase` for a YAML word: `versioned_upsert` is `.versionedUpsert`, `sse-kms` is `.sseKMS`.
    static func member(_ word: String, _ table: [String: String] = [:]) -> String {
        if let known = table[word] { return "." + known }
        let parts = word.split(whereSeparator: { $0 == "_" || $0 == "-" || $0 == " " })
        return "."
            + parts.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.prefix(1).uppercased() + $0.element.dropFirst() }.joined()
    }
}

/// Reading a spec tree that has already loaded without errors: every value has the shape the decoder accepted.
extension YAMLNode {
    /// The value under `key`; nil when absent or null (as the loader reads it).
    subscript(_ key: String) -> YAMLNode? {
        mapping?.first { $0.key.scalar == key }.map(\.value).flatMap { $0.isNull ? nil : $0 }
    }

    /// Whether the key is written at all, even with a null value (`egress:` alone means no egress rules).
    func contains(_ key: String) -> Bool { mapping?.contains { $0.key.scalar == key } ?? false }

    var text: String { scalar ?? "" }

    /// A list of strings; a single scalar is a one-element list, as the loader reads it.
    var strings: [String] {
        if let scalar, !isNull { return [scalar] }
        return (sequence ?? []).compactMap(\.scalar)
    }

    var items: [YAMLNode] { sequence ?? [] }
    var pairs: [(key: YAMLNode, value: YAMLNode)] { mapping ?? [] }
    var keys: [String] { pairs.compactMap { $0.key.scalar } }
}
