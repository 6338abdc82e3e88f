import SluiceCore

struct MappingColumnExistsRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL502", name: "mapping-column-exists", severity: .error,
        summary: "Every mapping targets an existing column of its table, once.",
        explanation:
            "A mapping names a column of the target table. A misspelt or dropped column would otherwise fail at load time, after the data was read.")

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
                      - table: events
                        columns: { event_id: event_id, event_name: name, ↓event_nmae: name }
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
        var findings: [Diagnostic] = []
        for pipeline in context.spec.pipelines {
            for target in pipeline.targets {
                guard let table = warehouse.table(target.table) else { continue }
                for mapping in target.mappings where table.column(mapping.column) == nil {
                    var message =
                        "pipeline '\(pipeline.name)' maps \(mapping.source) to column '\(mapping.column)', which \(table.qualifiedName) does not have"
                    if let s = Suggestion.closest(to: mapping.column, among: table.columns.map(\.name)) { message += "; did you mean '\(s)'?" }
                    findings.append(
                        finding(
                            message, at: mapping.location, subject: "pipeline:\(pipeline.name)",
                            notes: [RelatedNote("table \(table.qualifiedName) is declared here", at: table.location)]))
                }
                let keys = target.key + (target.versionColumn.map { [$0] } ?? [])
                for key in keys where table.column(key) == nil {
                    findings.append(
                        finding(
                            "pipeline '\(pipeline.name)' uses column '\(key)' of \(table.qualifiedName) as a key, but the table has no such column",
                            at: target.location, subject: "pipeline:\(pipeline.name)"))
                }
            }
        }
        return findings
    }
}
