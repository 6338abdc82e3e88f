import SluiceCore

struct PrivateSubnetEgressRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL208", name: "private-subnet-egress", severity: .warning,
        summary: "A private subnet has its default route through a NAT gateway.",
        explanation:
            "'private' means outbound internet through a NAT gateway (AWS CDK's PRIVATE_WITH_EGRESS). A private subnet without a NAT route has no internet at all; if that is intended, call it isolated so readers and checks know."
    )

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  subnets:
                    - ↓{ name: app, cidr: 10.0.8.0/24, az: a, type: private }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                network:
                  subnets:
                    - { name: app, cidr: 10.0.8.0/24, az: a, type: private }
                  nat_gateways:
                    - { name: nat, subnet: public }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        let network = context.spec.network
        return network.subnets.filter { $0.type == .private }.compactMap { subnet in
            let table = network.routeTable(for: subnet.name)
            let (throughNAT, _) = context.reachability.internetDestinations(of: table, .v4, to: ReachabilityEngine.isNATGateway)
            let hasNATRoute = table?.routes.contains { ReachabilityEngine.isNATGateway($0.target) } ?? false
            if throughNAT.isEmpty && !hasNATRoute {
                return finding(
                    "private subnet '\(subnet.name)' has no default route to a NAT gateway; declare it isolated if it needs no internet",
                    at: subnet.location, subject: "subnet:\(subnet.name)",
                    evidence: ["subnet '\(subnet.name)' (private) → route table '\(table?.name ?? "main")' → no 0.0.0.0/0 → NAT gateway"])
            }
            // More specific routes take their share of the internet from the NAT default.
            let internet = context.reachability.internetBeyondVPC(.v4)
            let elsewhere = internet.subtracting(throughNAT)
            guard !elsewhere.isEmpty else { return nil }
            let others = context.reachability.routing(table, .v4).filter { !$0.destinations.intersection(elsewhere).isEmpty }.map(\.route)
            let taken = elsewhere == internet ? "every internet address" : "\(elsewhere)"
            let routes =
                others.isEmpty ? "no route" : "route\(others.count == 1 ? "" : "s") \(others.map { "\($0.destination)" }.joined(separator: ", "))"
            return finding(
                "private subnet '\(subnet.name)' sends \(throughNAT.isEmpty ? "none" : "only part") of the internet through its NAT gateway: \(routes) take\(others.count <= 1 ? "s" : "") \(taken)",
                at: others.first?.location ?? subnet.location, subject: "subnet:\(subnet.name)",
                evidence: others.map {
                    "subnet '\(subnet.name)' (private) → route table '\(table?.name ?? "main")' → \($0.destination) → \($0.target)"
                })
        }
    }
}
