import Foundation
import PostgresClient
import SluiceCore
import WarehouseDDL

/// A piece of SQL the spec wrote, in the statement that runs it.
public struct SQLUnderTest: Sendable {
    public enum Mode: Sendable {
        /// DDL (a view's CREATE): executed in the scratch database, so what follows can read it.
        case execute
        /// A routine's CREATE, with its body checked by PostgreSQL (`check_function_bodies`).
        case define
        /// DML (a merge): parsed, analysed and planned, never run; `setup` runs first in the same transaction.
        case prepare(setup: [String])
    }
    /// What it is, in the spec's words: `view analytics.daily_revenue`, `column revenue of fact_orders (pipeline orders)`.
    public var label: String
    public var statement: String
    /// Where the spec's text is in `statement`, in Unicode scalars: an error inside it is placed in the spec.
    public var fragment: Range<Int>
    public var mode: Mode

    public init(label: String, statement: String, fragment: Range<Int>, mode: Mode) {
        self.label = label
        self.statement = statement
        self.fragment = fragment
        self.mode = mode
    }
}

/// What PostgreSQL said about one piece.
public struct SQLProblem: Sendable, Equatable {
    public var label: String
    public var message: String
    /// Where in the fragment (in Unicode scalars from its start) PostgreSQL points, when it points inside it.
    public var offset: Int?
}

/// Every piece of the spec's SQL, checked by PostgreSQL itself against a scratch copy of the spec's
/// schema: a database created for the purpose, holding the tables and schemas, where each view is
/// created in order and each merge is prepared. Nothing is run against data; the database is
/// dropped afterwards. What PostgreSQL parses, resolves and types is what is checked — no parser
/// of our own guesses at it.
public enum SQLValidation {
    public static func run(schema: DesiredSchema, pieces: [SQLUnderTest], server: String) throws -> [SQLProblem] {
        let admin = try Connection(server)
        defer { admin.close() }
        let name = "sluice_scratch_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try admin.query("CREATE DATABASE \(SQL.identifier(name)) TEMPLATE template0")
        defer { _ = try? admin.query("DROP DATABASE IF EXISTS \(SQL.identifier(name)) WITH (FORCE)") }
        let scratch = try Connection(Self.conninfo(server, database: name))
        defer { scratch.close() }
        // Sluice's own functions read its control schema, which the scratch copy does not hold.
        try scratch.execute("SET check_function_bodies = off")

        // The schemas and tables, as `schema.sql` creates them; roles and grants belong to the real
        // cluster and are left out, and views are pieces of their own below.
        // The spec's routines too are pieces of their own.
        let declared = Set(schema.functions.filter { $0.declared != nil }.flatMap { DDL.createFunction($0) })
        for section in schema.creationSections where !section.heading.hasPrefix("Roles") && !section.heading.hasPrefix("Privileges") {
            for statement in section.statements
            where !statement.hasPrefix("CREATE VIEW") && !statement.hasPrefix("CREATE MATERIALIZED VIEW") && !declared.contains(statement) {
                if statement.hasPrefix("CREATE UNIQUE INDEX"), section.heading.hasPrefix("Views") { continue }
                try scratch.execute(statement)
            }
        }
        var problems: [SQLProblem] = []
        for piece in pieces {
            do {
                switch piece.mode {
                case .execute:
                    try scratch.execute(piece.statement)
                case .define:
                    try scratch.execute("SET check_function_bodies = on")
                    defer { _ = try? scratch.execute("SET check_function_bodies = off") }
                    try scratch.execute(piece.statement)
                case .prepare(let setup):
                    try scratch.query("BEGIN")
                    defer { _ = try? scratch.query("ROLLBACK") }
                    for statement in setup { try scratch.execute(statement) }
                    try scratch.prepare(piece.statement)
                }
            } catch let error as PostgresError where !error.isConnectionFailure {
                problems.append(SQLProblem(label: piece.label, message: Self.message(error), offset: Self.offset(of: error, in: piece)))
            }
        }
        return problems
    }

    static func message(_ error: PostgresError) -> String {
        var text = error.message
        if let detail = error.detail { text += " (\(detail))" }
        if let hint = error.hint { text += "; hint: \(hint)" }
        return text
    }

    /// PostgreSQL's position counts characters (Unicode scalars) from 1 in the statement.
    static func offset(of error: PostgresError, in piece: SQLUnderTest) -> Int? {
        guard let position = error.position, piece.fragment.contains(position - 1) else { return nil }
        return position - 1 - piece.fragment.lowerBound
    }

    /// The same server and login, another database: a URL's path, or a conninfo's `dbname`.
    static func conninfo(_ server: String, database: String) -> String {
        if var components = URLComponents(string: server), let scheme = components.scheme, scheme.hasPrefix("postgres") {
            components.path = "/" + database
            return components.string ?? server
        }
        return server + " dbname='\(database.replacingOccurrences(of: "'", with: "\\'"))'"
    }
}
