/// A resource an IAM statement names; Sluice turns each into its ARN.
public enum IAMResource: Sendable {
    case bucket(String)
    /// Objects under a prefix of a bucket: `bucket:raw/events/*`.
    case objects(bucket: String, prefix: String)
    case secret(String)
    /// A DynamoDB table.
    case dynamoTable(String)
    case topic(String)
    case queue(String)
    case arn(String)
    /// `*`.
    case any

    var text: String {
        switch self {
        case .bucket(let name): return "bucket:\(name)"
        case .objects(let bucket, let prefix): return "bucket:\(bucket)/\(prefix)*"
        case .secret(let name): return "secret:\(name)"
        case .dynamoTable(let name): return "table:\(name)"
        case .topic(let name): return "topic:\(name)"
        case .queue(let name): return "queue:\(name)"
        case .arn(let arn): return arn
        case .any: return "*"
        }
    }
}

/// An IAM policy statement, for a role or a gateway endpoint's policy.
public struct Statement: Sendable {
    let node: SpecNode

    /// `conditions` is `[operator: [key: values]]`, e.g. `["StringLike": ["s3:prefix": ["events/*"]]]`.
    public init(
        sid: String? = nil, effect: RuleAction? = nil, actions: [String], resources: [IAMResource],
        conditions: [String: [String: [String]]]? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        let conditionNode = conditions.map { conditions in
            SpecNode(
                kind: .mapping(
                    conditions.sorted { $0.key < $1.key }.map { op, entries in
                        (op, SpecNode(kind: .mapping(entries.sorted { $0.key < $1.key }.map { ($0.key, .strings($0.value, at: at)) }), site: at))
                    }), site: at)
        }
        node = .mapping(
            at,
            [
                ("sid", at.string(sid)), ("effect", at.word(effect)), ("actions", at.strings(actions)),
                ("resources", at.strings(resources.map(\.text))), ("conditions", conditionNode),
            ])
    }
}

/// `identity.roles`: renames the role Sluice derives for a workload and adds statements to it.
public struct Role: SpecPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, workload: String, statements: [Statement] = [],
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "identity", "roles",
                item: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("workload", at.string(workload)),
                        ("statements", statements.isEmpty ? nil : .list(statements.map(\.node), at: at)),
                    ]))
        ]
    }
}
