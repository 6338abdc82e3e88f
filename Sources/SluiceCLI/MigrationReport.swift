import Foundation
import Warehouse

/// A migration plan as text for people and JSON for scripts.
struct MigrationReport: Encodable {
    struct Step: Encodable {
        var summary: String
        var safety: String
        var reason: String?
        var statements: [String]
    }
    struct Drift: Encodable {
        var kind: String
        var name: String
        var detail: String
    }
    var database: String
    var target: String
    var upToDate: Bool
    var applied: Bool
    var steps: [Step]
    var drift: [Drift]
    var notes: [String]
    var refusal: String?

    init(_ plan: MigrationPlan, target: String, applied: Bool, refusal: String? = nil) {
        database = plan.database
        self.target = target
        upToDate = plan.isEmpty
        self.applied = applied
        steps = plan.steps.map { Step(summary: $0.summary, safety: $0.safety.rawValue, reason: $0.reason, statements: $0.statements) }
        drift = plan.drift.map { Drift(kind: $0.kind, name: $0.name, detail: $0.detail) }
        notes = plan.notes
        self.refusal = refusal
    }

    static func lines(_ plan: MigrationPlan) -> String {
        var text = ""
        for step in plan.steps {
            let mark = switch step.safety { case .safe: "  + "; case .destructive: "  ! "; case .blocked: "  x " }
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

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }
}
