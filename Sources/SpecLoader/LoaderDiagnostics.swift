import SluiceCore
import YAML

/// Every diagnostic the loader can raise, built by named factories so wording stays consistent.
public enum LoaderDiagnostics {
    public static let catalog: [RuleDocumentation] = [
        .init(
            id: "SL100", name: "yaml-syntax", severity: .error, summary: "The file is not well-formed YAML.",
            explanation:
                "libyaml could not parse the file. The position is libyaml's; the note, when present, says where the construct it was reading started. A spec file holds exactly one YAML document."
        ),
        .init(
            id: "SL101", name: "unreadable-spec", severity: .error, summary: "A spec or included file could not be read.",
            explanation:
                "The file does not exist, is not readable, is not UTF-8, or an include forms a cycle. The message carries the operating system's reason."
        ),
        .init(
            id: "SL102", name: "unknown-key", severity: .error, summary: "A key that this part of the spec does not take.",
            explanation:
                "Every mapping in a spec accepts a fixed set of keys (docs/spec.md). An unknown key is almost always a typo, so it is an error, with the closest known key suggested. Nothing is ignored silently."
        ),
        .init(
            id: "SL103", name: "wrong-type", severity: .error, summary: "A value of the wrong kind or out of range.",
            explanation:
                "The key expects a scalar, a list or a mapping, a number in a range, true/false, or one of a fixed set of words; the message says which and what was found."
        ),
        .init(
            id: "SL104", name: "missing-key", severity: .error, summary: "A required key is missing.",
            explanation:
                "The message names the key and the mapping that needs it; docs/spec.md lists every key with its type and default, and which keys are required."
        ),
        .init(
            id: "SL105", name: "duplicate-name", severity: .error, summary: "Two things of one kind share a name, or a mapping repeats a key.",
            explanation:
                "Names are how spec parts refer to each other and how CloudFormation logical IDs are derived, so they must be unique within their kind, and stay unique when punctuation is dropped: etl-a and etl_a would both become the logical ID SubnetEtlA. The note points at the first definition."
        ),
        .init(
            id: "SL106", name: "dangling-reference", severity: .error, summary: "A reference to something the spec does not define.",
            explanation:
                "A subnet, security group, bucket, table, column or other name is used but never defined. The closest defined name is suggested."),
        .init(
            id: "SL107", name: "bad-cidr", severity: .error, summary: "A malformed CIDR block or address.",
            explanation:
                "CIDR blocks are written address/prefix (10.0.0.0/16, 2001:db8::/56) with all host bits zero, as AWS requires. Leading zeros in IPv4 octets are refused."
        ),
        .init(
            id: "SL109", name: "unknown-postgres-type", severity: .error, summary: "A column type PostgreSQL does not have.",
            explanation:
                "Column types are PostgreSQL's built-in types and their aliases (integer, bigint, numeric(12,2), text, varchar(255), uuid, timestamptz, jsonb, …, with [] for arrays). The closest known type is suggested."
        ),
        .init(
            id: "SL110", name: "yaml-limits", severity: .error, summary: "The document exceeds the loader's safety limits.",
            explanation:
                "Aliases that would expand to more than 1,000,000 nodes (the \"billion laughs\" attack) or nesting deeper than 128 levels are refused when reached, without expanding anything."
        ),
        .init(
            id: "SL111", name: "invalid-value", severity: .error, summary: "A value that is well-typed but not valid where it is used.",
            explanation:
                "For example an availability zone outside the project's region, a port outside 0-65535, a regular expression that does not compile, or a suppression without a reason."
        ),
        .init(
            id: "SL113", name: "not-a-spec", severity: .error, summary: "A YAML file that is not a Sluice spec was given as one.",
            explanation:
                "None of the file's top-level keys is one a spec has (project, network, warehouse, pipelines, include, …): it is some other YAML, such as a CI workflow or a compose file. It is reported in one line instead of a key-by-key list. To check only a repository's specs, name them in the project file (sluice.yaml) or use the pre-commit hook, which passes only specs."
        ),
    ]

    static func make(_ code: String, _ message: String, at location: SourceLocation?, notes: [RelatedNote] = []) -> Diagnostic {
        Diagnostic(.error, code: code, message, at: location, notes: notes)
    }

    public static func unreadable(_ path: String, reason: String, at location: SourceLocation? = nil) -> Diagnostic {
        make("SL101", "cannot read '\(path)': \(reason)", at: location ?? SourceLocation(file: path, line: 1, column: 1))
    }
    public static func unknownKey(_ key: String, in context: String, suggestion: String?, at location: SourceLocation) -> Diagnostic {
        var message = "unknown key '\(key)' in \(context)"
        if let suggestion { message += "; did you mean '\(suggestion)'?" }
        return make("SL102", message, at: location)
    }
    public static func wrongType(expected: String, found node: YAMLNode, at location: SourceLocation) -> Diagnostic {
        YAMLDiagnostics.wrongType(expected: expected, found: node, at: location)
    }
    public static func badWord(_ word: String, for key: String, allowed: [String], at location: SourceLocation) -> Diagnostic {
        var message = "'\(word)' is not a valid \(key); expected one of: \(allowed.joined(separator: ", "))"
        if let suggestion = Suggestion.closest(to: word, among: allowed) { message += "; did you mean '\(suggestion)'?" }
        return make(YAMLDiagnostics.wrongTypeCode, message, at: location)
    }
    public static func missingKey(_ key: String, in context: String, at location: SourceLocation) -> Diagnostic {
        make("SL104", "missing required key '\(key)' in \(context)", at: location)
    }
    public static func duplicateKey(_ key: String, at location: SourceLocation, first: SourceLocation) -> Diagnostic {
        YAMLDiagnostics.duplicateKey(key, at: location, first: first)
    }
    public static func duplicateName(_ kind: String, _ name: String, at location: SourceLocation, first: SourceLocation) -> Diagnostic {
        make(YAMLDiagnostics.duplicateCode, "\(kind) '\(name)' is defined twice", at: location, notes: [RelatedNote("first defined here", at: first)])
    }
    public static func sameLogicalID(
        _ kind: String, _ name: String, _ other: String, part: String, at location: SourceLocation,
        first: SourceLocation
    ) -> Diagnostic {
        make(
            YAMLDiagnostics.duplicateCode, "\(kind) '\(name)' and '\(other)' become the same CloudFormation logical ID (…\(part)); rename one",
            at: location, notes: [RelatedNote("'\(other)' is defined here", at: first)])
    }
    public static func dangling(_ kind: String, _ name: String, candidates: [String], at location: SourceLocation) -> Diagnostic {
        var message = "\(kind) '\(name)' is not defined"
        if let suggestion = Suggestion.closest(to: name, among: candidates) { message += "; did you mean '\(suggestion)'?" }
        return make("SL106", message, at: location)
    }
    public static func badCIDR(_ reason: String, at location: SourceLocation) -> Diagnostic {
        make("SL107", "invalid CIDR: \(reason)", at: location)
    }
    public static func unknownPostgresType(_ text: String, at location: SourceLocation) -> Diagnostic {
        var message = "unknown PostgreSQL type '\(text)'"
        let bare = text.lowercased().split(separator: "(").first.map(String.init) ?? text
        if let suggestion = Suggestion.closest(to: bare, among: PostgresType.knownNames) { message += "; did you mean '\(suggestion)'?" }
        return make("SL109", message, at: location)
    }
    public static func invalid(_ message: String, at location: SourceLocation) -> Diagnostic {
        make("SL111", message, at: location)
    }
    public static func notASpec(keys: [String], at location: SourceLocation) -> Diagnostic {
        let shown = keys.prefix(4).map { "'\($0)'" }.joined(separator: ", ") + (keys.count > 4 ? ", …" : "")
        return make(
            "SL113", "not a Sluice spec: its top-level keys (\(shown)) are none of a spec's (project, network, warehouse, pipelines, …)", at: location
        )
    }
}
