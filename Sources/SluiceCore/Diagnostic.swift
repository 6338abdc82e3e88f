/// How serious a finding is. `--strict` treats warnings as errors.
public enum Severity: String, Sendable, Comparable, Codable {
    case note, warning, error

    private var rank: Int { self == .note ? 0 : self == .warning ? 1 : 2 }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// A secondary location that helps explain a finding ("the other subnet is declared here").
public struct RelatedNote: Hashable, Sendable {
    public var message: String
    public var location: SourceLocation?
    public init(_ message: String, at location: SourceLocation? = nil) {
        self.message = message
        self.location = location
    }
}

/// A problem found in a spec. Diagnostics are values: stages collect them and
/// the caller decides whether the run failed.
public struct Diagnostic: Hashable, Sendable {
    public var severity: Severity
    /// Stable rule ID such as `SL102`; `sluice explain` prints its documentation.
    public var code: String
    public var message: String
    public var location: SourceLocation?
    /// The chain of facts that proves the finding, e.g. the subnet, its route table and the route.
    public var evidence: [String]
    public var notes: [RelatedNote]
    /// The subject the finding is about (`subnet:etl-a`); suppressions match on it.
    public var subject: String?
    /// Set when a spec suppression with this written reason applies.
    public var suppressedBecause: String?

    public init(
        _ severity: Severity, code: String, _ message: String, at location: SourceLocation?,
        evidence: [String] = [], notes: [RelatedNote] = [], subject: String? = nil
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
        self.evidence = evidence
        self.notes = notes
        self.subject = subject
    }

    public var isSuppressed: Bool { suppressedBecause != nil }
}

extension Array where Element == Diagnostic {
    /// Compiler order: by file, then position, then rule, so output is deterministic.
    public func sortedForOutput() -> [Diagnostic] {
        sorted { a, b in
            let la = a.location ?? .unknown, lb = b.location ?? .unknown
            if la != lb { return la < lb }
            if a.code != b.code { return a.code < b.code }
            return a.message < b.message
        }
    }

    public var hasErrors: Bool { contains { $0.severity == .error && !$0.isSuppressed } }
}

/// "did you mean …?" by edit distance, for unknown keys, names and types.
public enum Suggestion {
    public static func closest(to word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, candidate.lowercased())
            let limit = max(1, min(3, candidate.count / 3 + 1))
            if distance <= limit, best.map({ distance < $0.1 }) ?? true { best = (candidate, distance) }
        }
        return best?.0
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and
    /// adjacent transpositions ("cird" is one edit from "cidr").
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = Swift.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = Swift.min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
