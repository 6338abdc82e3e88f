import SluiceCore

/// AWS accepts a route more specific than the VPC's `local` route only for a whole subnet and only
/// to a middlebox: CreateRoute refuses the rest, so the deploy would fail half-way.
struct RouteInsideVPCRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL209", name: "route-inside-vpc", severity: .error,
        summary: "A route inside the VPC's block must match a whole subnet and target a NAT gateway.",
        explanation: """
            Traffic between subnets follows the VPC's local route. AWS lets a route be more specific than it only to send one \
            subnet's traffic through a middlebox: the destination must be exactly a subnet's CIDR block, and the target a NAT \
            gateway, a network interface or a Gateway Load Balancer endpoint. Any other route inside the VPC's block (to an internet \
            gateway, or for part of a subnet) is refused when the stack is deployed. See "Routing to a middlebox" in the VPC user guide.
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
                        - ↓{ destination: 10.0.3.0/25, nat_gateway: nat }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                network:
                  nat_gateways:
                    - { name: nat, subnet: public }
                  route_tables:
                    - name: etl
                      subnets: [etl-a, etl-b]
                      routes:
                        - { destination: 10.0.3.0/24, nat_gateway: nat }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        let network = context.spec.network
        let vpcBlocks = [network.vpc.cidr] + [network.vpc.ipv6].compactMap { $0 }
        var findings: [Diagnostic] = []
        for table in network.routeTables {
            for route in table.routes where vpcBlocks.contains(where: { $0.contains(route.destination) }) {
                let wholeSubnet = network.subnets.first { $0.cidr == route.destination }
                let problem: String?
                if case .natGateway = route.target {
                    problem = wholeSubnet == nil ? "is inside the VPC's block but is not the block of one of its subnets" : nil
                } else {
                    problem =
                        "is inside the VPC's block, where AWS takes only routes to a NAT gateway, network interface or Gateway Load Balancer endpoint, not to \(route.target)"
                }
                guard let problem else { continue }
                findings.append(
                    finding(
                        "route table '\(table.name)' routes \(route.destination) to \(route.target): the destination \(problem)",
                        at: route.location, subject: "route_table:\(table.name)",
                        evidence: [
                            "route table '\(table.name)' → \(route.destination) → \(route.target)",
                            "VPC '\(network.vpc.name)' → \(vpcBlocks.map(\.description).joined(separator: ", ")) → local",
                        ]))
            }
        }
        return findings
    }
}
