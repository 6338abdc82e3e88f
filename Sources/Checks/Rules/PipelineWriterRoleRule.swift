import SluiceCore

struct PipelineWriterRoleRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL506", name: "pipeline-writer-role", severity: .error,
        summary: "A workload's pipelines log in as one database role that may write all their targets, never as the admin.",
        explanation: """
            The function that runs pipelines logs in to the warehouse as the first role (by name) with INSERT or UPDATE on the \
            targets of every pipeline it runs: by an IAM authentication token on RDS and Aurora, by a generated password on a \
            self-managed PostgreSQL. The admin's credentials only migrate. Without such a role a load would need the admin, \
            whose password could then drop any table; declare one under warehouse.roles with the privileges the targets need.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                warehouse:
                  tables:
                    - name: clicks
                      columns:
                        - { name: click_id, type: uuid, primary_key: true }
                pipelines:
                  - ↓name: clicks
                    workload: etl
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "clicks/", format: jsonl }
                    fields: { click_id: { type: uuid, required: true } }
                    targets:
                      - table: clicks
                        columns: { click_id: click_id }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                warehouse:
                  tables:
                    - name: clicks
                      columns:
                        - { name: click_id, type: uuid, primary_key: true }
                  roles:
                    - name: clicks_writer
                      grants:
                        - { privileges: [SELECT, INSERT, UPDATE], on: [public.clicks, public.events] }
                pipelines:
                  - name: clicks
                    workload: etl
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "clicks/", format: jsonl }
                    fields: { click_id: { type: uuid, required: true } }
                    targets:
                      - table: clicks
                        columns: { click_id: click_id }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        guard let warehouse = context.spec.warehouse else { return [] }
        var findings: [Diagnostic] = []
        var shared: [String: (roles: Set<String>, first: Pipeline)] = [:]
        for pipeline in context.spec.pipelines where !pipeline.targets.isEmpty {
            let writers = Set(warehouse.writerRoles(of: pipeline))
            let tables = pipeline.targets.map(\.table).joined(separator: ", ")
            guard !writers.isEmpty else {
                findings.append(
                    finding(
                        "no database role may write the targets of pipeline '\(pipeline.name)' (\(tables)): its loads would need the admin's login",
                        at: pipeline.location, subject: "pipeline:\(pipeline.name)",
                        notes: [RelatedNote("declare a role with INSERT, UPDATE on them under warehouse.roles", at: warehouse.location)]))
                continue
            }
            guard let earlier = shared[pipeline.workload] else {
                shared[pipeline.workload] = (writers, pipeline)
                continue
            }
            let common = earlier.roles.intersection(writers)
            if common.isEmpty {
                findings.append(
                    finding(
                        "pipelines '\(earlier.first.name)' and '\(pipeline.name)' run in '\(pipeline.workload)', which logs in as one role, "
                            + "but no role may write both's targets",
                        at: pipeline.location, subject: "pipeline:\(pipeline.name)",
                        notes: [RelatedNote("'\(earlier.first.name)' is here", at: earlier.first.location)]))
            } else {
                shared[pipeline.workload]?.roles = common
            }
        }
        return findings
    }
}
