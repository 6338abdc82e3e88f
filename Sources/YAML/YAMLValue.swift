/// A YAML document as a value: what the emitter writes and what a file written by it reads back as.
/// Maps keep their insertion order, so the output order is decided by whoever builds the tree, never by
/// a hash.
public indirect enum YAMLValue: Equatable, Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([YAMLValue])
    case map([(String, YAMLValue)])

    public static func == (a: YAMLValue, b: YAMLValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.map(let x), .map(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value under a key of a map, for tests and the plan diff.
    public subscript(key: String) -> YAMLValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.0 == key }?.1
    }

    /// A file the emitter wrote, read back. The emitter writes numbers and booleans plain and quotes
    /// any string a reader could take for one, so plain scalars can be typed safely.
    public init(readBack node: YAMLNode) {
        if let entries = node.mapping {
            self = .map(entries.map { ($0.key.scalar ?? "", YAMLValue(readBack: $0.value)) })
        } else if let items = node.sequence {
            self = .list(items.map(YAMLValue.init(readBack:)))
        } else {
            let text = node.scalar ?? ""
            if node.isPlainScalar, text == "true" {
                self = .bool(true)
            } else if node.isPlainScalar, text == "false" {
                self = .bool(false)
            } else if node.isPlainScalar, let number = Int(text) {
                self = .int(number)
            } else {
                self = .string(text)
            }
        }
    }
}

extension YAMLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: YAMLValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, YAMLValue)...) { self = .map(elements) }
}
