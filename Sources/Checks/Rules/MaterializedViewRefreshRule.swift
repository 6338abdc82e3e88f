import SluiceCore

struct MaterializedViewRefreshRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL405", name: "materialized-view-refresh", severity: .error,
        summary: "A materialized view refreshed after loads has a unique key.",
        explanation:
            "Pipelines refresh materialized views CONCURRENTLY so dashboards keep reading during the refresh; PostgreSQL refuses that unless the view has a unique index on plain columns. Declare it with unique_key."
    )

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                warehouse:
                  materialized_views:
                    - name: event_counts
                      sql: SELECT event_name, count(*) AS n FROM public.events GROUP BY event_name
                pipelines:
                  - name: counts
                    workload: etl
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "counts/", format: jsonl }
                    fields: { event_id: { type: uuid, required: true } }
                    targets:
                      - table: events
                        columns: { event_id: event_id, event_name: name }
                    post_load:
                      - refresh: ↓event_counts
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                warehouse:
                  materialized_views:
                    - name: event_counts
                      unique_key: [event_name]
                      sql: SELECT event_name, count(*) AS n FROM public.events GROUP BY event_name
                pipelines:
                  - name: counts
                    workload: etl
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "counts/", format: jsonl }
                    fields: { event_id: { type: uuid, required: true } }
                    targets:
                      - table: events
                        columns: { event_id: event_id, event_name: name }
                    post_load:
                      - refresh: event_counts
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        guard let warehouse = context.spec.warehouse else { return [] }
        return context.spec.pipelines.flatMap { pipeline in
            pipeline.postLoad.compactMap { step -> Diagnostic? in
                guard case .refreshMaterializedView(let name, let location) = step,
                    let view = warehouse.views.first(where: { $0.qualifiedName == name }), view.uniqueKey.isEmpty
                else { return nil }
                return finding(
                    "pipeline '\(pipeline.name)' refreshes materialized view '\(name)', which has no unique_key for REFRESH … CONCURRENTLY",
                    at: location, subject: "pipeline:\(pipeline.name)", notes: [RelatedNote("the view is declared here", at: view.location)])
            }
        }
    }
}
