import SluiceCore

struct CIDROutsideVPCRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL204", name: "cidr-outside-vpc", severity: .error,
        summary: "Every subnet's CIDR lies inside the VPC's CIDR.",
        explanation:
            "AWS refuses to create a subnet whose block is not inside one of the VPC's blocks. IPv6 subnet blocks must lie inside the VPC's IPv6 block."
    )

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  subnets:
                    - { name: stray, cidr: ↓10.1.0.0/24, az: a, type: isolated }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                network:
                  subnets:
                    - { name: spare, cidr: 10.0.200.0/24, az: a, type: isolated }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        let vpc = context.spec.network.vpc
        var findings: [Diagnostic] = []
        for subnet in context.spec.network.subnets {
            if !vpc.cidr.contains(subnet.cidr) {
                findings.append(
                    finding(
                        "subnet '\(subnet.name)' (\(subnet.cidr)) is not inside the VPC's \(vpc.cidr)", at: subnet.cidrLocation,
                        subject: "subnet:\(subnet.name)", notes: [RelatedNote("the VPC's block is declared here", at: vpc.cidrLocation)]))
            }
            if let v6 = subnet.ipv6 {
                if let vpc6 = vpc.ipv6, vpc6.contains(v6) { continue }
                findings.append(
                    finding(
                        "subnet '\(subnet.name)' IPv6 block \(v6) is not inside the VPC's IPv6 block \(vpc.ipv6.map(\.description) ?? "(none)")",
                        at: subnet.location, subject: "subnet:\(subnet.name)"))
            }
        }
        return findings
    }
}
