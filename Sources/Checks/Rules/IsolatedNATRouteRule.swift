import SluiceCore

struct IsolatedNATRouteRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL202", name: "isolated-nat-route", severity: .error,
        summary: "No route to a NAT gateway from an isolated subnet.",
        explanation: """
            Isolated subnets have no internet access at all, in either direction. A route to a NAT gateway gives outbound internet \
            access, which is what 'private' means; data in an isolated subnet could leave through it. Reach AWS services from \
            isolated subnets through gateway and interface endpoints instead, or change the subnet's type to private.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  nat_gateways:
                    - { name: nat, subnet: public }
                  route_tables:
                    - name: etl
                      subnets: [etl-a, etl-b]
                      routes:
                        - ↓{ destination: 0.0.0.0/0, nat_gateway: nat }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                network:
                  route_tables:
                    - name: etl
                      subnets: [etl-a, etl-b]
                      routes: []
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        let network = context.spec.network
        return network.subnets.filter { $0.type == .isolated }.flatMap { subnet -> [Diagnostic] in
            guard let table = network.routeTable(for: subnet.name) else { return [] }
            return table.routes.compactMap { route in
                guard case .natGateway = route.target else { return nil }
                return finding(
                    "isolated subnet '\(subnet.name)' routes \(route.destination) to a NAT gateway", at: route.location,
                    subject: "subnet:\(subnet.name)",
                    evidence: ["subnet '\(subnet.name)' (isolated) → route table '\(table.name)' → \(route.destination) → \(route.target)"])
            }
        }
    }
}
