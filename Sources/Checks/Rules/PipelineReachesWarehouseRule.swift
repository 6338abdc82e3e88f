import SluiceCore

struct PipelineReachesWarehouseRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL211", name: "pipeline-reaches-warehouse", severity: .error,
        summary: "Every pipeline's workload can reach the warehouse on its database port.",
        explanation: """
            From each subnet the workload runs in, to each subnet the warehouse may run in: both route tables must keep the traffic \
            local, both network ACLs must allow the request on the database port and the response on the ephemeral ports \
            (1024-65535), the workload's security groups must allow the egress and the warehouse's the ingress.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  security_groups:
                    - name: bare
                      egress: []
                    - name: s3only
                      egress:
                        - { port: 443, prefix_list: s3 }
                compute:
                  functions:
                    - { name: loader, subnets: [etl-a, etl-b], security_groups: [s3only] }
                pipelines:
                  - ↓name: late
                    workload: loader
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "late/", format: jsonl }
                    fields: { event_id: { type: uuid, required: true } }
                    targets:
                      - table: events
                        columns: { event_id: event_id, event_name: name }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                network:
                  security_groups:
                    - name: bare
                      egress: []
                    - name: s3only
                      egress:
                        - { port: 443, prefix_list: s3 }
                compute:
                  functions:
                    - { name: loader, subnets: [etl-a, etl-b], security_groups: [etl] }
                pipelines:
                  - name: late
                    workload: loader
                    schedule: rate(1 hour)
                    source: { bucket: raw, prefix: "late/", format: jsonl }
                    fields: { event_id: { type: uuid, required: true } }
                    targets:
                      - table: events
                        columns: { event_id: event_id, event_name: name }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        guard let warehouse = context.spec.warehouse else { return [] }
        let targets = context.reachability.placements(ofWarehouse: warehouse)
        return context.spec.pipelines.flatMap { pipeline -> [Diagnostic] in
            let sources = context.reachability.placements(ofWorkload: pipeline.workload)
            let answers = sources.flatMap { source in
                targets.map { target in
                    (
                        source.subnet.name, Optional(target.subnet.name),
                        context.reachability.reach(from: source, to: target, port: warehouse.port, .every)
                    )
                }
            }
            return BlockedCut.gather(answers).map { cut in
                finding(
                    "pipeline '\(pipeline.name)': \(sources[0].owner) in \(BlockedCut.subnets(cut.sources)) cannot reach warehouse '\(warehouse.name)' in \(BlockedCut.subnets(cut.targets)) on port \(warehouse.port): \(cut.reason)",
                    at: pipeline.location, subject: "pipeline:\(pipeline.name)", evidence: cut.path)
            }
        }
    }
}
