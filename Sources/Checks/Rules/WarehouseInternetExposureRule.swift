import SluiceCore

struct WarehouseInternetExposureRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL213", name: "warehouse-internet-exposure", severity: .error,
        summary: "Nothing on the internet can connect to the warehouse.",
        explanation: """
            Internet traffic reaches an interface when its subnet routes to an internet gateway, the interface has a public address, \
            the network ACL admits the request and lets the response out, and a security group admits some public address on the \
            port. The finding shows that whole path; break any link of it.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  security_groups:
                    - name: partner
                      ingress:
                        - { port: 5432, cidr: 198.51.100.0/24 }
                      egress: []
                compute:
                  hosts:
                    - { name: warehouse, instance_type: r6i.large, subnet: public, public_ip: true, security_groups: [dw, partner] }
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
                """, base: .network)
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
        return context.reachability.placements(ofWarehouse: warehouse).compactMap { placement in
            guard case .reachable(let path) = context.reachability.reachFromInternet(to: placement, port: warehouse.port) else { return nil }
            return finding(
                "warehouse '\(warehouse.name)' can be reached from the internet on port \(warehouse.port) in subnet '\(placement.subnet.name)'",
                at: warehouse.location, subject: "warehouse:\(warehouse.name)", evidence: path)
        }
    }
}
