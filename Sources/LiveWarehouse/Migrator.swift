import PostgresClient
import SluiceCore
import WarehouseDDL

/// Plans and applies migrations on one database.
public struct Migrator: Sendable {
    /// The advisory lock every Sluice migration of a database takes (`pg_advisory_xact_lock`), so two
    /// applies never interleave: the second waits, then finds nothing left to do.
    public static let lockKey: Int64 = 0x736c_7569_6365_0001  // "sluice" in ASCII, then 1

    public struct Refusal: Error, CustomStringConvertible {
        public var plan: MigrationPlan
        public var description: String
    }

    public let desired: DesiredSchema
    public init(_ desired: DesiredSchema) { self.desired = desired }

    /// Reads the database and returns the plan, changing nothing.
    public func plan(on connection: Connection) throws -> MigrationPlan {
        try connection.query("BEGIN")  // not READ ONLY: the probe creates temporary objects; ROLLBACK undoes them
        defer { _ = try? connection.query("ROLLBACK") }
        try connection.query("SET LOCAL search_path = pg_catalog")
        return try MigrationPlanner.plan(desired, on: connection)
    }

    /// Plans and applies in one transaction under the advisory lock. Refuses (and changes nothing)
    /// when a step is blocked, or destructive without `allowDestructive`.
    @discardableResult
    public func apply(on connection: Connection, allowDestructive: Bool = false) throws -> MigrationPlan {
        try connection.transaction {
            try connection.query("SELECT pg_advisory_xact_lock($1)", [String(Self.lockKey)])
            // Read after taking the lock, so a migration that committed meanwhile is seen.
            try connection.query("SET LOCAL search_path = pg_catalog")
            let plan = try MigrationPlanner.plan(desired, on: connection)
            if !plan.blocked.isEmpty {
                throw Refusal(plan: plan, description: "refused: " + plan.blocked.map { "\($0.summary): \($0.reason ?? "")" }.joined(separator: "; "))
            }
            if !plan.destructive.isEmpty, !allowDestructive {
                throw Refusal(
                    plan: plan,
                    description: "refused \(plan.destructive.count) destructive change(s): "
                        + plan.destructive.map { "\($0.summary) (\($0.reason ?? "data would be lost"))" }.joined(separator: "; ")
                        + ". Nothing was changed. Re-run with --allow-destructive to apply them.")
            }
            guard !plan.isEmpty else { return plan }
            // The spec's schemas first on the path, so view queries and defaults resolve as written.
            try connection.query("SET LOCAL search_path = \(desired.searchPath)")
            for step in plan.steps {
                for statement in step.statements {
                    do {
                        try connection.execute(statement)
                    } catch var error as PostgresError {
                        error.message = "\(step.summary): \(error.message)"
                        throw error
                    }
                }
            }
            for statement in plan.bookkeeping { try connection.execute(statement) }
            return plan
        }
    }
}
