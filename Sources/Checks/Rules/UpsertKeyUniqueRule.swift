import SluiceCore

struct UpsertKeyUniqueRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL505", name: "upsert-key-unique", severity: .error,
        summary: "An upsert target's key is the table's primary key, a unique constraint or a unique index, and is mapped.",
        explanation:
            "INSERT … ON CONFLICT (key) needs a unique index on exactly those columns, or PostgreSQL refuses the statement; and a key column the target does not feed would make every row conflict on NULL."
    )

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                pipelines:
                  - name: late
                    workload: etl
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "late/", format: jsonl }
                    fields: { event_id: { type: uuid, required: true }, payload: { type: object } }
                    targets:
                      - ↓table: events
                        mode: upsert
                        key: [event_name]
                        columns: { event_id: event_id, event_name: name }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                pipelines:
                  - name: late
                    workload: etl
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "late/", format: jsonl }
                    fields: { event_id: { type: uuid, required: true }, payload: { type: object } }
                    targets:
                      - table: events
                        mode: upsert
                        key: [event_id]
                        columns: { event_id: event_id, event_name: name }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        guard let warehouse = context.spec.warehouse else { return [] }
        var findings: [Diagnostic] = []
        for pipeline in context.spec.pipelines {
            for target in pipeline.targets where target.mode != .append && !target.key.isEmpty {
                guard let table = warehouse.table(target.table), target.key.allSatisfy({ table.column($0) != nil }) else { continue }
                if !table.hasUniqueKey(target.key) {
                    findings.append(
                        finding(
                            "\(target.mode.rawValue) key (\(target.key.joined(separator: ", "))) is not unique in \(table.qualifiedName); declare it as primary_key or unique",
                            at: target.location, subject: "pipeline:\(pipeline.name)",
                            notes: [RelatedNote("table \(table.qualifiedName) is declared here", at: table.location)]))
                }
                let fed = Set(target.mappings.map(\.column))
                for key in target.key where !fed.contains(key) {
                    findings.append(
                        finding(
                            "\(target.mode.rawValue) key column '\(key)' of \(table.qualifiedName) is not mapped", at: target.location,
                            subject: "pipeline:\(pipeline.name)"))
                }
            }
        }
        return findings
    }
}
