import Foundation
import LiveWarehouse
import PostgresClient
import WarehouseDDL

/// A migration plan as text for people and JSON for scripts.
public struct MigrationReport: Encodable, Sendable {
    public struct Step: Encodable, Sendable {
        public var summary: String
        public var safety: String
        public var reason: String?
        public var statements: [String]
    }
    public struct Drift: Encodable, Sendable {
        public var kind: String
        public var name: String
        public var detail: String
    }
    public var database: String
    public var target: String
    public var upToDate: Bool
    public var applied: Bool
    public var steps: [Step]
    public var drift: [Drift]
    public var notes: [String]
    public var refusal: String?
    /// What people read: a line per step and per drifted object (`lines`), and the SQL.
    public let lines: String
    public let script: String
    public let statementCount: Int

    enum CodingKeys: String, CodingKey {
        case database, target, upToDate, applied, steps, drift, notes, refusal
    }

    init(_ plan: MigrationPlan, target: String, applied: Bool, refusal: String? = nil) {
        database = plan.database
        self.target = target
        upToDate = plan.isEmpty
        self.applied = applied
        steps = plan.steps.map { Step(summary: $0.summary, safety: $0.safety.rawValue, reason: $0.reason, statements: $0.statements) }
        drift = plan.drift.map { Drift(kind: $0.kind, name: $0.name, detail: $0.detail) }
        notes = plan.notes
        self.refusal = refusal
        lines = Self.lines(plan)
        script = plan.script
        statementCount = plan.statementCount
    }

    static func lines(_ plan: MigrationPlan) -> String {
        var text = ""
        for step in plan.steps {
            let mark =
                switch step.safety {
                case .safe: "  + ";
                case .destructive: "  ! ";
                case .blocked: "  x "
                }
            text += mark + step.summary
            if step.safety != .safe { text += " [\(step.safety.rawValue): \(step.reason ?? "")]" }
            text += "\n"
        }
        if !plan.drift.isEmpty {
            text += "drift (in the database, not in the spec; left alone):\n"
            for item in plan.drift { text += "  ? \(item.kind) \(item.name): \(item.detail)\n" }
        }
        for note in plan.notes { text += "note: \(note)\n" }
        return text
    }

}

/// The warehouse database brought to the spec: planned (nothing changes) or applied (one transaction,
/// under the migration lock).
public enum WarehouseMigration {
    /// Migrating would run destructive steps the caller did not allow; `report` says which.
    public struct Refusal: Error, CustomStringConvertible {
        public var report: MigrationReport
        public var description: String
    }

    public static func plan(_ spec: Spec, database url: String) throws -> MigrationReport {
        guard let warehouse = spec.warehouse else { throw UsageError("\(spec.sourceName) has no warehouse to plan a migration for") }
        let plan = try Migrator(DesiredSchema(warehouse: warehouse, pipelines: spec.pipelines)).plan(on: try Connection(url))
        return MigrationReport(plan, target: DatabaseTarget.redacted(url), applied: false)
    }

    public static func apply(_ spec: Spec, conninfo: String, target: String, allowDestructive: Bool) throws -> MigrationReport {
        guard let warehouse = spec.warehouse else { throw UsageError("\(spec.sourceName) has no warehouse") }
        let migrator = Migrator(DesiredSchema(warehouse: warehouse, pipelines: spec.pipelines))
        do {
            let plan = try migrator.apply(on: try Connection(conninfo), allowDestructive: allowDestructive)
            return MigrationReport(plan, target: target, applied: !plan.isEmpty)
        } catch let refusal as Migrator.Refusal {
            throw Refusal(
                report: MigrationReport(refusal.plan, target: target, applied: false, refusal: refusal.description),
                description: refusal.description)
        }
    }
}
