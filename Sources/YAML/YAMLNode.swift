import SluiceCore

/// A YAML node with the position it was written at. Aliases resolve to the anchored
/// node itself (shared, never copied), so the tree costs what the text costs.
public struct YAMLNode: Sendable {
    public enum Kind: Sendable {
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        case mapping([(key: YAMLNode, value: YAMLNode)])
    }

    public var kind: Kind
    public var location: SourceLocation
    /// Nodes in this subtree counting every alias expansion; bounded by `YAMLReader.maxExpandedNodes`.
    public var expandedSize: Int

    public init(kind: Kind, location: SourceLocation, expandedSize: Int) {
        self.kind = kind
        self.location = location
        self.expandedSize = expandedSize
    }

    public var scalar: String? { if case .scalar(let s, _) = kind { return s } else { return nil } }
    public var isPlainScalar: Bool { if case .scalar(_, let plain) = kind { return plain } else { return false } }
    public var isNull: Bool {
        if case .scalar(let s, let plain) = kind { return plain && (s.isEmpty || s == "~" || s == "null" || s == "Null" || s == "NULL") }
        return false
    }
    public var sequence: [YAMLNode]? { if case .sequence(let items) = kind { return items } else { return nil } }
    public var mapping: [(key: YAMLNode, value: YAMLNode)]? { if case .mapping(let e) = kind { return e } else { return nil } }

    /// What the node is, for "expected a mapping, found a sequence".
    public var kindName: String {
        switch kind {
        case .scalar: return isNull ? "nothing (null)" : "a scalar"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}
