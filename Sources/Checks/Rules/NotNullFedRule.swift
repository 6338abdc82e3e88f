import SluiceCore

struct NotNullFedRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL504", name: "not-null-fed", severity: .error,
        summary: "Every NOT NULL column without a default is fed by each pipeline target that loads its table.",
        explanation:
            "A target that leaves such a column out makes every row fail the constraint. Map it, give the column a default, or make it nullable.")

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
                        columns: { event_id: event_id }
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
                        columns: { event_id: event_id, event_name: name }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        guard let warehouse = context.spec.warehouse else { return [] }
        return context.spec.pipelines.flatMap { pipeline in
            pipeline.targets.flatMap { target -> [Diagnostic] in
                guard let table = warehouse.table(target.table) else { return [] }
                let fed = Set(target.mappings.map(\.column))
                // An identity column numbers itself (and GENERATED ALWAYS refuses a value): it needs no feeding.
                return table.columns.filter {
                    $0.notNull && $0.defaultExpression == nil && !$0.type.hasImplicitDefault && !$0.identity && !fed.contains($0.name)
                }
                .map { column in
                    finding(
                        "pipeline '\(pipeline.name)' loads \(table.qualifiedName) without feeding NOT NULL column '\(column.name)', which has no default",
                        at: target.location, subject: "pipeline:\(pipeline.name)",
                        notes: [RelatedNote("column '\(column.name)' is declared here", at: column.location)])
                }
            }
        }
    }
}
