import SluiceCore

struct ManagedDatabaseAZRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL404", name: "managed-database-azs", severity: .error,
        summary: "An RDS or Aurora warehouse's subnets span at least two availability zones.",
        explanation:
            "RDS refuses a DB subnet group that covers fewer than two availability zones, and Multi-AZ failover needs a standby in another zone.")

    static let examples = RuleExamples(
        triggering: [
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
                  subnets: [db]
                  security_groups: [dw]
                """, base: .network)
        ],
        nonTriggering: [
            RuleExample(
                """
                warehouse:
                  name: dw
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
                """, base: .network)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        guard let warehouse = context.spec.warehouse, warehouse.engine.isManaged else { return [] }
        let zones = Set(warehouse.subnets.compactMap { context.spec.network.subnet($0)?.availabilityZone })
        guard zones.count < 2 else { return [] }
        return [
            finding(
                "warehouse '\(warehouse.name)' subnets cover \(zones.count) availability zone\(zones.count == 1 ? "" : "s") (\(zones.sorted().joined(separator: ", "))); RDS needs at least two",
                at: warehouse.location, subject: "warehouse:\(warehouse.name)",
                evidence: warehouse.subnets.map { "subnet '\($0)' → \(context.spec.network.subnet($0)?.availabilityZone ?? "?")" })
        ]
    }
}
