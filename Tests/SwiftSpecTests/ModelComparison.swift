import SluiceCore

/// A model written out field by field (through reflection), without positions and the spec's file
/// name: two specs describe the same deployment exactly when these are equal, whatever form they came from.
enum ModelComparison {
    static func canonical(_ spec: Spec) -> String {
        var spec = spec
        spec.file = ""
        return describe(spec)
    }

    /// Where two canonical forms part, with some text before it and each side's text after it.
    static func firstDifference(_ expected: String, _ actual: String) -> String {
        let common = zip(expected, actual).prefix { $0 == $1 }.count
        let before = expected.dropFirst(max(0, common - 160)).prefix(min(common, 160))
        return "after …\(before): expected \(expected.dropFirst(common).prefix(160))… got \(actual.dropFirst(common).prefix(160))…"
    }

    static func describe(_ value: Any) -> String {
        if value is SourceLocation { return "@" }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.map { describe($0.value) } ?? "nil"
        case .dictionary, .set:
            // Hash order is not meaningful: compare contents sorted.
            return "{" + mirror.children.map { describe($0.value) }.sorted().joined(separator: ", ") + "}"
        case .collection, .tuple:
            return "[" + mirror.children.map { ($0.label.map { "\($0): " } ?? "") + describe($0.value) }.joined(separator: ", ") + "]"
        case .struct, .class, .enum:
            guard !mirror.children.isEmpty else { return "\(value)" }
            let fields = mirror.children.map { ($0.label ?? "_") + ": " + describe($0.value) }
            return "\(mirror.subjectType)(" + fields.joined(separator: ", ") + ")"
        default:
            return "\(value)"
        }
    }
}
