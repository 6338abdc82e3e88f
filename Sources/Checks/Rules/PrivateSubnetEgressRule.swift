import SluiceCore

struct PrivateSubnetEgressRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL208", name: "private-subnet-egress", severity: .warning,
        summary: "A private subnet has its default route through a NAT gateway.",
        explanation: "'private' means outbound internet through a NAT gateway (AWS CDK's PRIVATE_WITH_EGRESS). A private subnet without a NAT route has no internet at all; if that is intended, call it isolated so readers and checks know.")

    func check(_ context: CheckContext) -> [Diagnostic] {
        let network = context.spec.network
        return network.subnets.filter { $0.type == .private }.compactMap { subnet in
            let table = network.routeTable(for: subnet.name)
            if case .natGateway? = context.reachability.bestRoute(in: table, to: .anyIPv4)?.target { return nil }
            return finding("private subnet '\(subnet.name)' has no default route to a NAT gateway; declare it isolated if it needs no internet",
                           at: subnet.location, subject: "subnet:\(subnet.name)",
                           evidence: ["subnet '\(subnet.name)' (private) → route table '\(table?.name ?? "main")' → no 0.0.0.0/0 → NAT gateway"])
        }
    }
}
