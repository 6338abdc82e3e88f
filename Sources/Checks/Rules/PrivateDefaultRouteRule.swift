import SluiceCore

/// A private or isolated subnet must not route the internet to an internet gateway.
struct PrivateDefaultRouteRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL201", name: "private-default-route", severity: .error,
        summary: "No 0.0.0.0/0 or ::/0 route to an internet gateway from a private or isolated subnet.",
        explanation: """
        A subnet is public exactly when its route table sends the default route to an internet gateway. A subnet the spec calls \
        private or isolated with such a route is public in fact: anything in it with a public address is on the internet, and a \
        security group is the only thing left between the warehouse and the world. Route private subnets' default traffic to a \
        NAT gateway, and give isolated subnets no default route at all.
        """)

    func check(_ context: CheckContext) -> [Diagnostic] {
        let network = context.spec.network
        var findings: [Diagnostic] = []
        for subnet in network.subnets where subnet.type != .public {
            guard let table = network.routeTable(for: subnet.name) else { continue }
            for route in table.routes where route.destination.isDefault {
                guard case .internetGateway = route.target else { continue }
                findings.append(finding(
                    "\(subnet.type.rawValue) subnet '\(subnet.name)' has a default route to the internet",
                    at: route.location, subject: "subnet:\(subnet.name)",
                    evidence: ["subnet '\(subnet.name)' (\(subnet.type.rawValue)) → route table '\(table.name)' → \(route.destination) → \(route.target)"],
                    notes: [RelatedNote("subnet '\(subnet.name)' is declared here", at: subnet.location)]))
            }
        }
        return findings
    }
}
