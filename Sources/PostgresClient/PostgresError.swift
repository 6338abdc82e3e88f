import Foundation

/// A failure reported by libpq or the server. Server errors carry PostgreSQL's SQLSTATE
/// (`23505` unique violation, `40P01` deadlock, `57P01` terminated by an administrator, …).
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    /// Where in the statement, 1-based character offset, when the server says.
    public var position: Int?

    public init(sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil, position: Int? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.position = position
    }

    public var description: String {
        var text = message
        if let sqlState { text = "\(text) (SQLSTATE \(sqlState))" }
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        return text
    }

    /// The connection broke (server gone, backend terminated): worth a retry on a new connection.
    public var isConnectionFailure: Bool {
        guard let sqlState else { return true }
        return sqlState.hasPrefix("08") || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }

    /// The server rolled this transaction back to resolve a conflict with another one (a deadlock, a
    /// serialization failure): the same work, done again, may well succeed.
    public var isConflictWithAnotherTransaction: Bool { sqlState == "40P01" || sqlState == "40001" }
}

/// Array values for parameters (`$1::text[]`), in PostgreSQL's array text format.
public enum PostgresArray {
    public static func text(_ elements: [String]) -> String {
        "{"
            + elements.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }
}
