import SluiceCore
import WarehouseDDL

/// One change to the database: what it does in words, the SQL that does it, and whether it may lose data.
public struct MigrationStep: Hashable, Sendable {
    public enum Safety: String, Sendable {
        /// Loses no data.
        case safe
        /// Loses data (a dropped table or column, a narrowed type): only with --allow-destructive.
        case destructive
        /// Cannot be done as the spec asks (NULLs in a column that must become NOT NULL, …): never run.
        case blocked
    }
    public var summary: String
    public var statements: [String]
    public var safety: Safety
    /// Why a step is destructive or blocked.
    public var reason: String?
    /// The part of the spec the step is about (the table or column it changes), when the spec has it:
    /// where a refusal points.
    public var location: SourceLocation?

    public init(_ summary: String, _ statements: [String], safety: Safety = .safe, reason: String? = nil, at location: SourceLocation? = nil) {
        self.summary = summary
        self.statements = statements
        self.safety = safety
        self.reason = reason
        self.location = location
    }
}

/// Something in the database that the spec does not describe and Sluice did not create. Reported, never dropped.
public struct DriftItem: Hashable, Sendable {
    public var kind: String
    public var name: String
    public var detail: String
}

/// The changes that bring one database to its spec, in the order they run.
public struct MigrationPlan: Sendable {
    public var database: String
    public var steps: [MigrationStep]
    public var drift: [DriftItem]
    public var notes: [String]
    /// The bookkeeping (managed objects, schema version) written after the steps.
    public var bookkeeping: [String]

    public var isEmpty: Bool { steps.isEmpty }
    public var destructive: [MigrationStep] { steps.filter { $0.safety == .destructive } }
    public var blocked: [MigrationStep] { steps.filter { $0.safety == .blocked } }
    public var statementCount: Int { steps.reduce(0) { $0 + $1.statements.count } }

    /// The migration as one SQL script, each step under a comment saying what it does.
    public var script: String {
        guard !isEmpty else { return "-- \(database) is up to date: nothing to do.\n" }
        var text = "BEGIN;\nSELECT pg_advisory_xact_lock(\(Migrator.lockKey));\n"
        for step in steps {
            var comment = "-- \(step.summary)"
            if step.safety != .safe { comment += " [\(step.safety.rawValue.uppercased())\(step.reason.map { ": \($0)" } ?? "")]" }
            text += "\n" + comment + "\n" + step.statements.joined(separator: "\n") + "\n"
        }
        // The bookkeeping rows are long and say nothing a reviewer needs; `sluice apply` writes them.
        text += "\n-- then sluice apply rewrites sluice.managed_objects and adds a row to sluice.schema_version\nCOMMIT;\n"
        return text
    }
}
