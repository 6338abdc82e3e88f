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

    func check(_ context: CheckContext) -> [Diagnostic] {
        guard let warehouse = context.spec.warehouse else { return [] }
        let targets = context.reachability.placements(ofWarehouse: warehouse)
        return context.spec.pipelines.flatMap { pipeline in
            context.reachability.placements(ofWorkload: pipeline.workload).flatMap { source in
                targets.compactMap { target in
                    guard case .blocked(let reason, let path) = context.reachability.reach(from: source, to: target, port: warehouse.port, .every)
                    else { return nil }
                    return finding("pipeline '\(pipeline.name)': \(source.owner) in subnet '\(source.subnet.name)' cannot reach warehouse '\(warehouse.name)' in subnet '\(target.subnet.name)' on port \(warehouse.port): \(reason)",
                                   at: pipeline.location, subject: "pipeline:\(pipeline.name)", evidence: path)
                }
            }
        }
    }
}
