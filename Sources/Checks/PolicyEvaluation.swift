import SluiceCore

/// One kind of S3 call a workload makes, over a set of objects: `GetObject` on every key under
/// `events/`, `ListBucket` of the bucket with that prefix.
public struct S3Access: Sendable, CustomStringConvertible {
    public var action: String
    public var bucket: String
    /// Every key under this prefix (object actions), or the listing's `s3:prefix` (ListBucket).
    public var keyPrefix: String

    public init(_ action: String, bucket: String, keyPrefix: String = "") {
        self.action = action
        self.bucket = bucket
        self.keyPrefix = keyPrefix
    }

    var isBucketAction: Bool { action == "s3:ListBucket" }

    public var description: String {
        isBucketAction
            ? "\(action) on bucket '\(bucket)'\(keyPrefix.isEmpty ? "" : " (prefix '\(keyPrefix)')")"
            : "\(action) on '\(bucket)/\(keyPrefix)*'"
    }

    /// What a pipeline reading `prefix` of `bucket` asks for.
    public static func reading(_ bucket: String, prefix: String) -> [S3Access] {
        [S3Access("s3:ListBucket", bucket: bucket, keyPrefix: prefix), S3Access("s3:GetObject", bucket: bucket, keyPrefix: prefix)]
    }
}

/// IAM's evaluation of a policy for a set of requests, as AWS documents it: an explicit `Deny`
/// that matches any of them wins; otherwise every request needs an `Allow` whose action pattern
/// and resource pattern cover it. Action patterns match case-insensitively with `*` and `?`;
/// resource ARNs match segment by segment with the same wildcards.
///
/// Conditions: `s3:prefix` (StringLike, StringEquals) is evaluated against the listing's prefix;
/// any other condition key is taken as met by an `Allow` (the request context is not known
/// before deploy) and as not met by a `Deny` (which then does not refuse our requests).
public enum PolicyEvaluation {
    public enum Decision: Sendable {
        case allowed(by: [PolicyStatement])
        case denied(by: PolicyStatement)
        /// No `Allow` covers all of it (the implicit deny).
        case notAllowed
    }

    public static func evaluate(_ statements: [PolicyStatement], _ access: S3Access) -> Decision {
        if let deny = statements.first(where: { $0.effect == .deny && applies($0, to: access, every: false) }) { return .denied(by: deny) }
        let allows = statements.filter { $0.effect == .allow && applies($0, to: access, every: true) }
        return allows.isEmpty ? .notAllowed : .allowed(by: allows)
    }

    /// Why the statements do not let `access` through (`denies … (statement S)`, `allows no …`), or nil.
    public static func refusal(_ statements: [PolicyStatement], _ access: S3Access) -> String? {
        switch evaluate(statements, access) {
        case .allowed: return nil
        case .denied(let statement): return "denies \(access) (statement \(statement.sid ?? "Deny"))"
        case .notAllowed: return "allows no \(access)"
        }
    }

    /// With `every`, the statement covers every request of `access`; without, at least one.
    static func applies(_ statement: PolicyStatement, to access: S3Access, every: Bool) -> Bool {
        guard statement.actions.contains(where: { glob($0.lowercased(), matches: access.action.lowercased()) }) else { return false }
        guard conditionsHold(statement, access, every: every) else { return false }
        return statement.resources.contains { resource in
            switch resource {
            case .any: return true
            case .bucket(let name): return access.isBucketAction && name == access.bucket
            case .bucketObjects(let name, let prefix):
                guard !access.isBucketAction, name == access.bucket else { return false }
                return every ? access.keyPrefix.hasPrefix(prefix) : (access.keyPrefix.hasPrefix(prefix) || prefix.hasPrefix(access.keyPrefix))
            case .arn(let arn):
                let target = access.isBucketAction ? "arn:aws:s3:::\(access.bucket)" : "arn:aws:s3:::\(access.bucket)/\(access.keyPrefix)"
                if access.isBucketAction { return glob(arn, matches: target) }
                // Objects: every key under the prefix is covered when the pattern is a literal start of it
                // followed by `*`; some key is, when the pattern's literal part and the prefix agree.
                let literal = String(arn.prefix { $0 != "*" && $0 != "?" })
                if every { return literal.count < arn.count && arn.dropFirst(literal.count).first == "*" && target.hasPrefix(literal) }
                let hasWildcard = literal.count < arn.count
                return literal.hasPrefix(target) || (hasWildcard && target.hasPrefix(literal))
            default:
                return false
            }
        }
    }

    static func conditionsHold(_ statement: PolicyStatement, _ access: S3Access, every: Bool) -> Bool {
        for (operation, keys) in statement.conditions {
            for (key, values) in keys {
                guard key.lowercased() == "s3:prefix" else {
                    if statement.effect == .deny { return false }
                    continue
                }
                guard access.isBucketAction else { continue }  // s3:prefix exists only on ListBucket
                let matched: Bool
                switch operation {
                case "StringEquals": matched = values.contains(access.keyPrefix)
                case "StringLike": matched = values.contains { glob($0, matches: access.keyPrefix) }
                case "StringNotEquals": matched = !values.contains(access.keyPrefix)
                case "StringNotLike": matched = !values.contains { glob($0, matches: access.keyPrefix) }
                default: matched = statement.effect == .allow
                }
                if !matched { return false }
            }
        }
        return true
    }

    /// IAM's wildcards: `*` any run of characters, `?` one character.
    public static func glob(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var (i, j) = (0, 0)
        var star = -1, mark = 0
        while j < t.count {
            if i < p.count && (p[i] == "?" || p[i] == t[j]) {
                i += 1; j += 1
            } else if i < p.count && p[i] == "*" {
                star = i; mark = j; i += 1
            } else if star >= 0 {
                i = star + 1; mark += 1; j = mark
            } else {
                return false
            }
        }
        while i < p.count && p[i] == "*" { i += 1 }
        return i == p.count
    }
}
