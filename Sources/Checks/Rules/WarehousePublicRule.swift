import SluiceCore

struct WarehousePublicRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL403", name: "warehouse-public", severity: .error,
        summary: "The warehouse is neither in a public subnet nor publicly accessible.",
        explanation:
            "The warehouse belongs in private or isolated subnets with no public address; BI tools reach it through a declared client such as a proxy host. This holds even when no security group admits the internet today: one rule added later would."
    )

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                compute:
                  hosts:
                    - { name: warehouse, instance_type: r6i.large, subnet: public, security_groups: [dw] }
                warehouse:
                  ↓name: dw
                  database: analytics
                  credentials_secret: dw-credentials
                  clients: [etl]
                  tables:
                    - name: events
                      columns:
                        - { name: event_id, type: uuid, primary_key: true }
                  engine: ec2
                  host: warehouse
                """, base: .network),
            RuleExample(
                """
                warehouse:
                  ↓name: dw
                  database: analytics
                  credentials_secret: dw-credentials
                  clients: [etl]
                  tables:
                    - name: events
                      columns:
                        - { name: event_id, type: uuid, primary_key: true }
                  engine: rds
                  subnets: [etl-a, etl-b]
                  security_groups: [dw]
                  publicly_accessible: true
                """, base: .network),
            RuleExample(
                """
                compute:
                  hosts:
                    - ↓{ name: warehouse, instance_type: r6i.large, subnet: db, public_ip: true, security_groups: [dw] }
                warehouse:
                  name: dw
                  database: analytics
                  credentials_secret: dw-credentials
                  clients: [etl]
                  tables:
                    - name: events
                      columns:
                        - { name: event_id, type: uuid, primary_key: true }
                  engine: ec2
                  host: warehouse
                """, base: .network),
        ],
        nonTriggering: [
            RuleExample(
                """
                compute:
                  hosts:
                    - { name: warehouse, instance_type: r6i.large, subnet: db, security_groups: [dw] }
                warehouse:
                  name: dw
                  database: analytics
                  credentials_secret: dw-credentials
                  clients: [etl]
                  tables:
                    - name: events
                      columns:
                        - { name: event_id, type: uuid, primary_key: true }
                  engine: ec2
                  host: warehouse
                """, base: .network)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        guard let warehouse = context.spec.warehouse else { return [] }
        var findings: [Diagnostic] = []
        for placement in context.reachability.placements(ofWarehouse: warehouse) where placement.subnet.type == .public {
            findings.append(
                finding(
                    "warehouse '\(warehouse.name)' is placed in public subnet '\(placement.subnet.name)'", at: warehouse.location,
                    subject: "warehouse:\(warehouse.name)", evidence: ["warehouse '\(warehouse.name)' → subnet '\(placement.subnet.name)' (public)"]))
        }
        if warehouse.publiclyAccessible {
            findings.append(
                finding("warehouse '\(warehouse.name)' is publicly accessible", at: warehouse.location, subject: "warehouse:\(warehouse.name)"))
        }
        if case .ec2(let hostName) = warehouse.engine, let host = context.spec.compute.host(hostName), host.publicIP {
            findings.append(
                finding("warehouse host '\(host.name)' has a public IP address", at: host.location, subject: "warehouse:\(warehouse.name)"))
        }
        return findings
    }
}
