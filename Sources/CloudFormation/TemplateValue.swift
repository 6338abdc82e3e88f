/// A CloudFormation template as a tree: what the renderers build and the emitter writes. Maps keep
/// their insertion order, so the output order is decided by the renderer, never by a hash.
public indirect enum TemplateValue: Equatable, Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([TemplateValue])
    case map([(String, TemplateValue)])

    public static func == (a: TemplateValue, b: TemplateValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.map(let x), .map(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    // Intrinsic functions, always in their long form (`Ref:`, `Fn::GetAtt:`): short-form tags
    // (`!Ref`) are YAML-only and trip up generic YAML tooling.
    public static func ref(_ logicalID: String) -> TemplateValue { .map([("Ref", .string(logicalID))]) }
    public static func getAtt(_ logicalID: String, _ attribute: String) -> TemplateValue {
        .map([("Fn::GetAtt", .list([.string(logicalID), .string(attribute)]))])
    }
    public static func sub(_ template: String) -> TemplateValue { .map([("Fn::Sub", .string(template))]) }
    public static func select(_ index: Int, _ list: TemplateValue) -> TemplateValue {
        .map([("Fn::Select", .list([.int(index), list]))])
    }

    /// The value under a key of a map, for tests and the plan diff.
    public subscript(key: String) -> TemplateValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.0 == key }?.1
    }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) { self = .map(elements) }
}
