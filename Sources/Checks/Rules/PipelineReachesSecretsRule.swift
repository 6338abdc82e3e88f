import SluiceCore

struct PipelineReachesSecretsRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL212", name: "pipeline-reaches-secrets", severity: .error,
        summary: "A pipeline's workload can reach Secrets Manager to read the warehouse credentials.",
        explanation: """
        The warehouse password lives in Secrets Manager, so a pipeline's workload calls secretsmanager on TCP 443 before it can \
        connect. From a subnet without a NAT gateway that needs a secretsmanager interface endpoint whose security group admits \
        the workload; Secrets Manager has no gateway endpoint.
        """)

    func check(_ context: CheckContext) -> [Diagnostic] {
        guard context.spec.warehouse != nil else { return [] }
        return context.spec.pipelines.flatMap { pipeline in
            context.reachability.placements(ofWorkload: pipeline.workload).compactMap { placement in
                guard case .blocked(let reason, let path) = context.reachability.reachService(from: placement, service: "secretsmanager") else { return nil }
                return finding("pipeline '\(pipeline.name)': \(placement.owner) cannot reach Secrets Manager from subnet '\(placement.subnet.name)': \(reason)",
                               at: pipeline.location, subject: "pipeline:\(pipeline.name)", evidence: path)
            }
        }
    }
}
