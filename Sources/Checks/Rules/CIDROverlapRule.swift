import SluiceCore

struct CIDROverlapRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL205", name: "cidr-overlap", severity: .error,
        summary: "No two subnets' CIDRs overlap.",
        explanation:
            "An address belongs to one subnet. AWS refuses overlapping subnet blocks, and the reachability analysis would be meaningless with them.")

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                network:
                  subnets:
                    - { name: overlap, cidr: ↓10.0.1.128/25, az: a, type: isolated }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                network:
                  subnets:
                    - { name: beside, cidr: 10.0.4.0/25, az: a, type: isolated }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        let subnets = context.spec.network.subnets
        var findings: [Diagnostic] = []
        for (i, a) in subnets.enumerated() {
            for b in subnets[(i + 1)...] where a.cidr.overlaps(b.cidr) {
                findings.append(
                    finding(
                        "subnet '\(b.name)' (\(b.cidr)) overlaps subnet '\(a.name)' (\(a.cidr))", at: b.cidrLocation,
                        subject: "subnet:\(b.name)", notes: [RelatedNote("the other subnet is declared here", at: a.cidrLocation)]))
            }
        }
        return findings
    }
}
