import SluiceCore

struct NATPlacementRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL203", name: "nat-placement", severity: .error,
        summary: "A NAT gateway sits in a public subnet of the VPC.",
        explanation: """
            A NAT gateway forwards private subnets' traffic to the internet gateway, so it must sit in a subnet whose route table \
            sends the default route to the internet gateway. Placed in a private or isolated subnet it forwards nothing, and the \
            subnets routed through it silently lose their internet access.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  nat_gateways:
                    - ↓{ name: nat, subnet: db }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                network:
                  nat_gateways:
                    - { name: nat, subnet: public }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        let network = context.spec.network
        return network.natGateways.compactMap { nat in
            guard let subnet = network.subnet(nat.subnet) else { return nil }
            if subnet.type != .public {
                return finding(
                    "NAT gateway '\(nat.name)' is in \(subnet.type.rawValue) subnet '\(subnet.name)'; it must be in a public subnet",
                    at: nat.location, subject: "nat_gateway:\(nat.name)",
                    evidence: ["NAT gateway '\(nat.name)' → subnet '\(subnet.name)' (\(subnet.type.rawValue))"])
            }
            let table = network.routeTable(for: subnet.name)
            let route = context.reachability.bestRoute(in: table, to: .anyIPv4)
            if case .internetGateway? = route?.target { return nil }
            return finding(
                "NAT gateway '\(nat.name)' is in subnet '\(subnet.name)', whose route table has no default route to an internet gateway",
                at: nat.location, subject: "nat_gateway:\(nat.name)",
                evidence: [
                    "NAT gateway '\(nat.name)' → subnet '\(subnet.name)' → route table '\(table?.name ?? "main")' → 0.0.0.0/0 → \(route.map { "\($0.target)" } ?? "no route")"
                ])
        }
    }
}
