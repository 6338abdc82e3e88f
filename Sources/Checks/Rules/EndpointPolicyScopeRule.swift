import SluiceCore

struct EndpointPolicyScopeRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL302", name: "endpoint-policy-scope", severity: .error,
        summary: "A gateway endpoint's policy names only the spec's own buckets or tables.",
        explanation: """
            Without a policy an S3 gateway endpoint lets anything in the subnet reach every bucket in every account: the classic \
            exfiltration path from a 'private' subnet. Sluice derives the policy from the buckets the workloads touch; a full-access \
            policy, a '*' resource or an ARN outside the spec is refused.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  endpoints:
                    - { name: dynamodb, service: dynamodb, policy: ↓full_access }
                """),
            RuleExample(
                """
                network:
                  endpoints:
                    - name: dynamodb
                      service: dynamodb
                      policy:
                        statements:
                          - ↓{ actions: ["dynamodb:GetItem"], resources: ["*"] }
                """),
            RuleExample(
                """
                network:
                  endpoints:
                    - { name: dynamodb, service: dynamodb, policy: { tables: ↓[] } }
                """),
        ],
        nonTriggering: [
            RuleExample(
                """
                storage:
                  dynamodb_tables:
                    - { name: state, partition_key: { name: id, type: S } }
                network:
                  endpoints:
                    - { name: dynamodb, service: dynamodb, policy: { tables: [state] } }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        context.spec.network.endpoints.filter { $0.type == .gateway }.flatMap { endpoint -> [Diagnostic] in
            switch endpoint.policy {
            case .fullAccess(let location):
                return [
                    finding(
                        "endpoint '\(endpoint.name)' allows the whole \(endpoint.service) service", at: location,
                        subject: "endpoint:\(endpoint.name)",
                        evidence: [
                            "endpoint '\(endpoint.name)' → policy full_access → every \(endpoint.service == "s3" ? "bucket" : "table") of every account"
                        ])
                ]
            case .statements(let statements):
                // A Deny only narrows: its resources cannot widen what the endpoint lets through. AWS's own
                // buckets a self-managed warehouse host needs at first boot (SL216) are the spec's too.
                var buckets = Set(context.spec.storage.buckets.map(\.name))
                if case .ec2? = context.spec.warehouse?.engine {
                    let region = context.spec.project.region
                    buckets.formUnion(["al2023-repos-\(region)-de612dc2", "cloudformation-waitcondition-\(region)"])
                }
                return statements.filter { $0.effect == .allow }.flatMap { statement in
                    statement.resources.compactMap { resource in
                        switch resource {
                        case .arn(let arn) where Self.bucket(of: arn).map(buckets.contains) == true:
                            return nil
                        case .any, .arn:
                            return finding(
                                "endpoint '\(endpoint.name)' policy names '\(resource)', which is not a resource of this spec",
                                at: statement.location,
                                subject: "endpoint:\(endpoint.name)", evidence: ["endpoint '\(endpoint.name)' → statement → Resource \(resource)"])
                        default: return nil
                        }
                    }
                }
            case .resources(let names, let location):
                if names.isEmpty {
                    return [
                        finding(
                            "endpoint '\(endpoint.name)' has no bucket or table to allow; no workload uses it", at: location,
                            subject: "endpoint:\(endpoint.name)")
                    ]
                }
                return []
            case .derived:
                return []
            }
        }
    }

    /// The bucket an S3 ARN names, when it names one without wildcards (`arn:aws:s3:::raw/events/*` → raw).
    static func bucket(of arn: String) -> String? {
        guard arn.hasPrefix("arn:aws:s3:::") else { return nil }
        let bucket = arn.dropFirst("arn:aws:s3:::".count).prefix { $0 != "/" }
        return bucket.isEmpty || bucket.contains("*") || bucket.contains("?") ? nil : String(bucket)
    }
}
