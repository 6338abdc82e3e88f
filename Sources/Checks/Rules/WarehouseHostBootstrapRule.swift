import SluiceCore

struct WarehouseHostBootstrapRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL216", name: "warehouse-host-bootstrap", severity: .error,
        summary:
            "The self-managed warehouse's host reaches what its first boot needs: the package repositories, Secrets Manager and its stack's signal.",
        explanation: """
            At first boot the warehouse host installs PostgreSQL from the Amazon Linux 2023 repositories, which AWS serves from S3 \
            (bucket al2023-repos-<region>-de612dc2); reads the admin's password from the generated secret in Secrets Manager; and \
            tells the stack PostgreSQL is up through its wait condition's presigned URL, also in S3 (bucket \
            cloudformation-waitcondition-<region>). Each needs TCP 443 from the host's subnet: to S3 through a gateway endpoint on its \
            route table (Sluice adds both buckets to a policy it derives; a policy written in the spec must allow s3:GetObject on \
            the first and s3:PutObject on the second) or a NAT gateway, and to Secrets Manager through an \
            interface endpoint whose security group admits the host, or a NAT gateway. Without them the stack waits 30 minutes for a \
            signal that never comes and rolls back.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  security_groups:
                    - name: pg
                      ingress:
                        - { port: 5432, security_group: etl }
                      egress: []
                compute:
                  hosts:
                    - ↓{ name: warehouse, instance_type: r6i.large, subnet: db, security_groups: [pg] }
                warehouse: { name: dw, engine: ec2, host: warehouse, database: analytics, credentials_secret: dw-credentials, clients: [etl] }
                """, base: .network)
        ],
        nonTriggering: [
            RuleExample(
                """
                compute:
                  hosts:
                    - { name: warehouse, instance_type: r6i.large, subnet: db, security_groups: [dw] }
                warehouse: { name: dw, engine: ec2, host: warehouse, database: analytics, credentials_secret: dw-credentials, clients: [etl] }
                """, base: .network)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        let spec = context.spec
        guard let warehouse = spec.warehouse, case .ec2(let hostName) = warehouse.engine, let host = spec.compute.host(hostName) else { return [] }
        var findings: [Diagnostic] = []
        let placements = context.reachability.placements(ofWorkload: host.name)
        // A policy the spec writes itself must admit both buckets; the one Sluice derives always does.
        let region = spec.project.region
        let s3 = [
            S3Access("s3:GetObject", bucket: "al2023-repos-\(region)-de612dc2"),
            S3Access("s3:PutObject", bucket: "cloudformation-waitcondition-\(region)"),
        ]
        let needs: [(service: String, purpose: String, accesses: [S3Access])] = [
            ("s3", "the package repositories and the stack's signal in S3", s3),
            ("secretsmanager", "Secrets Manager (the admin's password)", []),
        ]
        for (service, purpose, accesses) in needs {
            let answers = placements.map { placement in
                (
                    placement.subnet.name, String?.none,
                    context.reachability.reachService(from: placement, service: service, accesses: accesses)
                )
            }
            for cut in BlockedCut.gather(answers) {
                findings.append(
                    finding(
                        "warehouse host '\(host.name)' cannot reach \(purpose) at first boot from \(BlockedCut.subnets(cut.sources)): \(cut.reason)",
                        at: host.location, subject: "host:\(host.name)", evidence: cut.path))
            }
        }
        return findings
    }
}
