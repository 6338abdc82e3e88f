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
    /// Each step that cannot run as asked (blocked), or needs --allow-destructive, as a finding at
    /// the part of the spec it is about.
    public internal(set) var findings: [Diagnostic]

    enum CodingKeys: String, CodingKey {
        case database, target, upToDate, applied, steps, drift, notes, refusal, findings
    }

    /// A finding as scripts read it: what, where in the spec, and PostgreSQL's words.
    struct EncodedFinding: Encodable {
        var code: String
        var severity: Severity
        var message: String
        var location: String?

        init(_ finding: Diagnostic) {
            code = finding.code
            severity = finding.severity
            message = finding.message
            location = finding.location.map { "\($0)" }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(database, forKey: .database)
        try container.encode(target, forKey: .target)
        try container.encode(upToDate, forKey: .upToDate)
        try container.encode(applied, forKey: .applied)
        try container.encode(steps, forKey: .steps)
        try container.encode(drift, forKey: .drift)
        try container.encode(notes, forKey: .notes)
        try container.encodeIfPresent(refusal, forKey: .refusal)
        try container.encode(findings.map(EncodedFinding.init), forKey: .findings)
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
        findings = plan.steps.compactMap { step in
            let documentation: RuleDocumentation
            switch step.safety {
            case .safe: return nil
            case .destructive: documentation = WarehouseMigration.destructiveStep
            case .blocked: documentation = WarehouseMigration.blockedStep
            }
            return Diagnostic(
                documentation.severity, code: documentation.id, "\(step.summary): \(step.reason ?? "data would be lost")",
                at: step.location, subject: "database:\(plan.database)")
        }
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
    public static let destructiveStep = RuleDocumentation(
        id: "SL601", name: "destructive-migration", severity: .error, summary: "A migration step would lose data.",
        explanation:
            "Dropping a table or column, narrowing a type that rows' values do not fit, or filling NULLs with a default changes or loses what is stored. `sluice apply` refuses the whole migration, changing nothing, unless --allow-destructive; `sluice plan --database` shows the steps first. The finding points at the table or column of the spec the step is about."
    )
    public static let blockedStep = RuleDocumentation(
        id: "SL602", name: "blocked-migration", severity: .error, summary: "A migration step cannot be done as the spec asks.",
        explanation:
            "The database holds what the change cannot take: NULLs in a column that must become NOT NULL without a default, values a new type cannot hold, a table or view of another kind in the way. Nothing is changed, with or without --allow-destructive; change those rows (or the spec) first."
    )

    /// Migrating would run destructive steps the caller did not allow; `report` says which.
    public struct Refusal: Error, CustomStringConvertible {
        public var report: MigrationReport
        public var description: String
    }

    public static func plan(_ spec: Spec, database url: String) throws -> MigrationReport {
        guard let warehouse = spec.warehouse else { throw Failure("\(spec.sourceName) has no warehouse to plan a migration for") }
        let plan = try Migrator(DesiredSchema(warehouse: warehouse, pipelines: spec.pipelines)).plan(on: try Connection(url))
        return MigrationReport(plan, target: DatabaseTarget.redacted(url), applied: false)
    }

    public static func apply(_ spec: Spec, conninfo: String, target: String, allowDestructive: Bool) throws -> MigrationReport {
        guard let warehouse = spec.warehouse else { throw Failure("\(spec.sourceName) has no warehouse") }
        let migrator = Migrator(DesiredSchema(warehouse: warehouse, pipelines: spec.pipelines))
        // The spec's SQL first: a wrong view or expression changes nothing, rather than failing halfway.
        let invalidSQL = try SpecSQL.check(spec, database: conninfo).filter { $0.severity == .error }
        if !invalidSQL.isEmpty {
            var report = MigrationReport(try migrator.plan(on: try Connection(conninfo)), target: target, applied: false)
            report.findings = invalidSQL
            let description = "the spec's SQL is refused by PostgreSQL (\(invalidSQL.count) problem(s)); nothing was changed"
            report.refusal = description
            throw Refusal(report: report, description: description)
        }
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
