import SluiceCore

/// A private or isolated subnet must not route the internet to an internet gateway.
struct PrivateDefaultRouteRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL201", name: "private-default-route", severity: .error,
        summary: "No route that sends internet addresses to an internet gateway from a private or isolated subnet.",
        explanation: """
            A subnet is public exactly when its route table sends the default route to an internet gateway. A subnet the spec calls \
            private or isolated with such a route is public in fact: anything in it with a public address is on the internet, and a \
            security group is the only thing left between the warehouse and the world. Route private subnets' default traffic to a \
            NAT gateway, and give isolated subnets no default route at all.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  subnets:
                    - { name: app, cidr: 10.0.8.0/24, az: a, type: private }
                  nat_gateways:
                    - { name: nat, subnet: public }
                  route_tables:
                    - name: app
                      subnets: [app]
                      routes:
                        - ↓{ destination: 0.0.0.0/0, internet_gateway: igw }
                """),
            RuleExample(
                """
                network:
                  subnets:
                    - { name: app, cidr: 10.0.8.0/24, az: a, type: private }
                  nat_gateways:
                    - { name: nat, subnet: public }
                  route_tables:
                    - name: app
                      subnets: [app]
                      routes:
                        - { destination: 0.0.0.0/0, nat_gateway: nat }
                        - ↓{ destination: 0.0.0.0/1, internet_gateway: igw }
                        - { destination: 128.0.0.0/1, internet_gateway: igw }
                """),
        ],
        nonTriggering: [
            RuleExample(
                """
                network:
                  subnets:
                    - { name: app, cidr: 10.0.8.0/24, az: a, type: private }
                  nat_gateways:
                    - { name: nat, subnet: public }
                  route_tables:
                    - name: app
                      subnets: [app]
                      routes:
                        - { destination: 0.0.0.0/0, nat_gateway: nat }
                """)
        ])

    /// What longest-prefix match sends to an internet gateway, as a set: `0.0.0.0/1` + `128.0.0.0/1`
    /// is a default route too, and a more specific route beside a NAT default takes its share.
    func check(_ context: CheckContext) -> [Diagnostic] {
        let network = context.spec.network
        var findings: [Diagnostic] = []
        for subnet in network.subnets where subnet.type != .public {
            guard let table = network.routeTable(for: subnet.name) else { continue }
            for family in [CIDR.Family.v4, .v6] {
                let (addresses, routes) = context.reachability.internetDestinations(of: table, family, to: ReachabilityEngine.isInternetGateway)
                guard let first = routes.first else { continue }
                let whole = addresses.isSuperset(of: .internet(family))
                let message =
                    whole && routes.count == 1 && first.destination.isDefault
                    ? "\(subnet.type.rawValue) subnet '\(subnet.name)' has a default route to the internet"
                    : whole
                        ? "\(subnet.type.rawValue) subnet '\(subnet.name)' sends every internet address to an internet gateway (routes \(routes.map { "\($0.destination)" }.joined(separator: ", ")))"
                        : "\(subnet.type.rawValue) subnet '\(subnet.name)' sends internet addresses to an internet gateway (route\(routes.count == 1 ? "" : "s") \(routes.map { "\($0.destination)" }.joined(separator: ", ")))"
                findings.append(
                    finding(
                        message, at: first.location, subject: "subnet:\(subnet.name)",
                        evidence: routes.map {
                            "subnet '\(subnet.name)' (\(subnet.type.rawValue)) → route table '\(table.name)' → \($0.destination) → \($0.target)"
                        },
                        notes: [RelatedNote("subnet '\(subnet.name)' is declared here", at: subnet.location)]))
            }
        }
        return findings
    }
}
