import SluiceCore

/// What the reader reports about the YAML itself, before anything is read as a spec. The loader's
/// catalog documents these codes beside its own (`LoaderDiagnostics.catalog`).
public enum YAMLDiagnostics {
    public static let syntaxCode = "SL100"
    public static let wrongTypeCode = "SL103"
    public static let duplicateCode = "SL105"
    public static let limitsCode = "SL110"

    public static func syntax(_ message: String, at location: SourceLocation) -> Diagnostic {
        Diagnostic(.error, code: syntaxCode, "YAML syntax: \(message)", at: location)
    }
    public static func wrongType(expected: String, found node: YAMLNode, at location: SourceLocation) -> Diagnostic {
        var found = node.kindName
        if let scalar = node.scalar, !node.isNull { found = "'\(scalar.prefix(60))'" }
        return Diagnostic(.error, code: wrongTypeCode, "expected \(expected), found \(found)", at: location)
    }
    public static func duplicateKey(_ key: String, at location: SourceLocation, first: SourceLocation) -> Diagnostic {
        Diagnostic(.error, code: duplicateCode, "duplicate key '\(key)'", at: location, notes: [RelatedNote("first written here", at: first)])
    }
    public static func aliasBomb(limit: Int, at location: SourceLocation) -> Diagnostic {
        Diagnostic(.error, code: limitsCode, "aliases expand to more than \(limit) nodes; refusing to expand (billion-laughs pattern)", at: location)
    }
    public static func tooDeep(limit: Int, at location: SourceLocation) -> Diagnostic {
        Diagnostic(.error, code: limitsCode, "nesting deeper than \(limit) levels", at: location)
    }
}
