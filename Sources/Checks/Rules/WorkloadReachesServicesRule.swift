import SluiceCore

struct WorkloadReachesServicesRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL212", name: "workload-reaches-services", severity: .error,
        summary: "Every workload can reach each AWS service it uses, from every subnet it runs in.",
        explanation: """
            A workload calls the services behind what it uses: Secrets Manager for the warehouse password of the pipelines it runs \
            and for its 'uses.secrets', DynamoDB, SNS, SQS and S3 for its tables, topics, queues and buckets. Each needs TCP 443 to the \
            service: through a gateway endpoint on the subnet's route table (S3, DynamoDB; its policy must allow the resource), an \
            interface endpoint whose security group admits the workload, or a NAT gateway. Isolated subnets have only endpoints.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  security_groups:
                    - name: s3only
                      egress:
                        - { port: 443, prefix_list: s3 }
                compute:
                  functions:
                    - ↓{ name: rotate, subnets: [etl-a, etl-b], security_groups: [s3only], uses: { secrets: [dw-credentials] } }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                compute:
                  functions:
                    - { name: rotate, subnets: [etl-a, etl-b], security_groups: [etl], uses: { secrets: [dw-credentials] } }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        let spec = context.spec
        var findings: [Diagnostic] = []
        let workloads: [(name: String, uses: Uses, location: SourceLocation)] =
            spec.compute.functions.map { ($0.name, $0.uses, $0.location) } + spec.compute.hosts.map { ($0.name, $0.uses, $0.location) }
        for workload in workloads {
            var needs: [(service: String, resource: String?)] = []
            let runsPipeline = spec.pipelines.contains { $0.workload == workload.name }
            if (runsPipeline && spec.warehouse != nil) || !workload.uses.secrets.isEmpty { needs.append(("secretsmanager", nil)) }
            needs += workload.uses.dynamoTables.map { ("dynamodb", $0) }
            if !workload.uses.topics.isEmpty { needs.append(("sns", nil)) }
            if !workload.uses.queues.isEmpty { needs.append(("sqs", nil)) }
            needs += (workload.uses.readBuckets + workload.uses.writeBuckets).map { ("s3", $0) }
            let placements = context.reachability.placements(ofWorkload: workload.name)
            for need in needs {
                let answers = placements.map { placement in
                    (
                        placement.subnet.name, String?.none,
                        context.reachability.reachService(from: placement, service: need.service, resource: need.resource)
                    )
                }
                let what = need.resource.map { "\(need.service) ('\($0)')" } ?? need.service
                for cut in BlockedCut.gather(answers) {
                    findings.append(
                        finding(
                            "\(placements[0].owner) cannot reach \(what) from \(BlockedCut.subnets(cut.sources)): \(cut.reason)",
                            at: workload.location, subject: "workload:\(workload.name)", evidence: cut.path))
                }
            }
        }
        return findings
    }
}
