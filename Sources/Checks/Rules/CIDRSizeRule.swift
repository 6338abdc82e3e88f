import SluiceCore

struct CIDRSizeRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL206", name: "cidr-size", severity: .error,
        summary: "IPv4 VPC and subnet blocks are between /16 and /28; IPv6 subnet blocks are /64.",
        explanation:
            "AWS accepts IPv4 VPC and subnet blocks from /16 (65,536 addresses) to /28 (16 addresses), and IPv6 subnet blocks of exactly /64 (the VPC's own IPv6 block is /56)."
    )

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  subnets:
                    - { name: tiny, cidr: ↓10.0.4.0/29, az: a, type: isolated }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                network:
                  subnets:
                    - { name: small, cidr: 10.0.4.0/28, az: a, type: isolated }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        let network = context.spec.network
        var findings: [Diagnostic] = []
        if !(16...28).contains(network.vpc.cidr.prefixLength) {
            findings.append(
                finding(
                    "VPC block \(network.vpc.cidr) is /\(network.vpc.cidr.prefixLength); AWS takes /16 to /28",
                    at: network.vpc.cidrLocation, subject: "vpc:\(network.vpc.name)"))
        }
        if let v6 = network.vpc.ipv6, v6.prefixLength != 56 {
            findings.append(
                finding("VPC IPv6 block \(v6) is /\(v6.prefixLength); AWS assigns /56", at: network.vpc.location, subject: "vpc:\(network.vpc.name)"))
        }
        for subnet in network.subnets {
            if !(16...28).contains(subnet.cidr.prefixLength) {
                findings.append(
                    finding(
                        "subnet '\(subnet.name)' block \(subnet.cidr) is /\(subnet.cidr.prefixLength); AWS takes /16 to /28",
                        at: subnet.cidrLocation, subject: "subnet:\(subnet.name)"))
            }
            if let v6 = subnet.ipv6, v6.prefixLength != 64 {
                findings.append(
                    finding("subnet '\(subnet.name)' IPv6 block \(v6) must be a /64", at: subnet.location, subject: "subnet:\(subnet.name)"))
            }
        }
        return findings
    }
}
