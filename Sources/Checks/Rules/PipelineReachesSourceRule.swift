import SluiceCore

struct PipelineReachesSourceRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL210", name: "pipeline-reaches-buckets", severity: .error,
        summary: "Every pipeline's workload can reach its source bucket (and quarantine bucket) from every subnet it runs in.",
        explanation: """
            The workload must reach S3 on TCP 443 from each of its subnets (a Lambda function runs in any of them): through an S3 \
            gateway endpoint attached to the subnet's route table whose policy allows the bucket, or through a NAT gateway in a public \
            subnet. Its security groups must allow the egress (to the endpoint's prefix list or 0.0.0.0/0) and the subnet's network \
            ACL both the request and the response on the ephemeral ports. An internet-gateway route does not help a Lambda function: \
            it never has a public address. The same holds for the quarantine bucket when rejects are also written to S3. The \
            endpoint's policy and the workload's role are evaluated as IAM does for every call the pipeline makes (list and read \
            its prefix, write rejects): an explicit deny of part of the prefix cuts it.
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
                    - { name: loader, subnets: [etl-a, etl-b], security_groups: [bare] }
                pipelines:
                  - name: late
                    workload: loader
                    schedule: rate(1 hour)
                    source: ↓{ bucket: raw, prefix: "late/", format: jsonl }
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
        context.spec.pipelines.flatMap { pipeline -> [Diagnostic] in
            // The calls it makes: list and read its source prefix, write rejects under the quarantine prefix.
            let buckets: [(String, String, [S3Access])] = [
                pipeline.sourceBucket.map { bucket in
                    // An API source's pages are written there first (and an interrupted fetch's extra pages removed).
                    let landing =
                        pipeline.source.api == nil
                        ? []
                        : ["s3:PutObject", "s3:DeleteObject"].map { S3Access($0, bucket: bucket, keyPrefix: pipeline.source.staticPrefix) }
                    return (
                        pipeline.source.api == nil ? "source" : "landing", bucket,
                        S3Access.reading(bucket, prefix: pipeline.source.staticPrefix) + landing
                    )
                },
                pipeline.quarantine.bucket.map { ("quarantine", $0, [S3Access("s3:PutObject", bucket: $0, keyPrefix: pipeline.quarantine.prefix)]) },
            ].compactMap { $0 }
            let placements = context.reachability.placements(ofWorkload: pipeline.workload)
            // The workload's own role must allow the same calls: its explicit statements may deny them.
            let roleFindings = context.spec.identity.roles.filter { $0.workload == pipeline.workload }.flatMap { role in
                buckets.flatMap(\.2).compactMap { access -> Diagnostic? in
                    guard let refusal = PolicyEvaluation.refusal(role.statements, access) else { return nil }
                    return finding(
                        "pipeline '\(pipeline.name)': role '\(role.name)' of \(pipeline.workload) \(refusal)",
                        at: pipeline.source.location, subject: "pipeline:\(pipeline.name)",
                        evidence: ["pipeline '\(pipeline.name)' → workload '\(pipeline.workload)' → role '\(role.name)' → \(access)"])
                }
            }
            return roleFindings
                + buckets.flatMap { role, bucket, accesses in
                    let answers = placements.map { placement in
                        (
                            placement.subnet.name, String?.none,
                            context.reachability.reachService(from: placement, service: "s3", resource: bucket, accesses: accesses)
                        )
                    }
                    return BlockedCut.gather(answers).map { cut in
                        finding(
                            "pipeline '\(pipeline.name)': \(placements[0].owner) cannot reach \(role) bucket '\(bucket)' from \(BlockedCut.subnets(cut.sources)): \(cut.reason)",
                            at: role == "quarantine" ? pipeline.location : pipeline.source.location, subject: "pipeline:\(pipeline.name)",
                            evidence: cut.path)
                    }
                }
        }
    }
}
